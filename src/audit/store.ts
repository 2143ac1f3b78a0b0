/**
 * The SQLite index of sessions and events at `$AIRLOCK_HOME/index.db` (better-sqlite3). The
 * JSONL logs are the record; the index is a cache for queries, rebuilt from a log whenever the
 * log's size or mtime differ from what was indexed (so a session killed mid-run, or indexed by
 * an older airlock, is picked up on the next query).
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { airlockHome, listSessionIds, readSessionMeta, sessionDir } from '../session/store.js';
import type { AuditEvent, EventKind } from './types.js';
import { LOG_FILE } from './log.js';
import { verifyLogFile } from './verify.js';

type DB = Database.Database;

export function indexPath(): string {
  return join(airlockHome(), 'index.db');
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  created_at TEXT, ended_at TEXT, status TEXT, backend TEXT, policy_digest TEXT, workspace TEXT,
  argv TEXT, exit_code INTEGER,
  events INTEGER NOT NULL DEFAULT 0, head TEXT, sealed INTEGER NOT NULL DEFAULT 0,
  log_path TEXT, log_size INTEGER, log_mtime_ms REAL,
  counts TEXT, hosts TEXT, denials INTEGER NOT NULL DEFAULT 0,
  -- written once by the live writer when it sealed the log; reindexing never changes them, so
  -- they witness a later truncation or rewrite of the file
  sealed_events INTEGER, sealed_head TEXT
);
CREATE TABLE IF NOT EXISTS events (
  session TEXT NOT NULL, seq INTEGER NOT NULL, time TEXT NOT NULL, kind TEXT NOT NULL,
  action TEXT NOT NULL, decision TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL,
  prev TEXT NOT NULL, hash TEXT NOT NULL,
  PRIMARY KEY (session, seq)
);
CREATE INDEX IF NOT EXISTS events_kind ON events (session, kind);
CREATE INDEX IF NOT EXISTS events_subject ON events (kind, subject);
`;

let cached: { path: string; db: DB } | undefined;

export function openIndex(): DB {
  const path = indexPath();
  if (cached && cached.path === path && cached.db.open) return cached.db;
  mkdirSync(airlockHome(), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  cached = { path, db };
  return db;
}

export function closeIndex(): void {
  cached?.db.close();
  cached = undefined;
}

export interface SessionRow {
  id: string;
  created_at: string | null;
  ended_at: string | null;
  status: string | null;
  backend: string | null;
  policy_digest: string | null;
  workspace: string | null;
  exit_code: number | null;
  events: number;
  head: string | null;
  sealed: number;
  log_path: string | null;
  counts: string | null;
  hosts: string | null;
  denials: number;
  sealed_events: number | null;
  sealed_head: string | null;
}

/** Records what the live writer sealed (only once per session). */
export function recordSeal(id: string, events: number, head: string, db: DB = openIndex()): void {
  db.prepare('UPDATE sessions SET sealed_events = ?, sealed_head = ? WHERE id = ? AND sealed_events IS NULL').run(events, head, id);
}

/** The sealed witness without reindexing (reads what the writer recorded). */
export function sealWitness(id: string, db: DB = openIndex()): { events: number; head: string } | undefined {
  const r = db.prepare('SELECT sealed_events, sealed_head FROM sessions WHERE id = ?').get(id) as { sealed_events: number | null; sealed_head: string | null } | undefined;
  return r && r.sealed_events !== null && r.sealed_head ? { events: r.sealed_events, head: r.sealed_head } : undefined;
}

/** (Re)indexes one session from its log file. Returns the number of events indexed. */
export function indexSession(id: string, db: DB = openIndex()): number {
  const dir = sessionDir(id);
  const file = join(dir, LOG_FILE);
  let meta: Record<string, unknown> = {};
  try {
    meta = readSessionMeta(id) as unknown as Record<string, unknown>;
  } catch {
    /* a log without metadata is still indexed */
  }
  const st = existsSync(file) ? statSync(file) : undefined;
  const r = st ? verifyLogFile(file, { maxProblems: 1 }) : undefined;
  const events = r?.events ?? [];
  const start = events.find((e) => e.kind === 'session' && e.action === 'start');
  const end = [...events].reverse().find((e) => e.kind === 'session' && e.action === 'end');
  const counts: Record<string, number> = {};
  const hosts = new Set<string>();
  let denials = 0;
  for (const e of events) {
    counts[e.kind] = (counts[e.kind] ?? 0) + 1;
    if (e.kind === 'network') hosts.add(e.subject.replace(/:\d+$/, ''));
    if (e.decision === 'deny') denials++;
  }
  const tx = db.transaction(() => {
    db.prepare('DELETE FROM events WHERE session = ?').run(id);
    const ins = db.prepare('INSERT OR REPLACE INTO events (session, seq, time, kind, action, decision, subject, detail, prev, hash) VALUES (?,?,?,?,?,?,?,?,?,?)');
    for (const e of events) ins.run(id, e.seq, e.time, e.kind, e.action, e.decision, e.subject, JSON.stringify(e.detail), e.prev, e.hash);
    db.prepare(
      `INSERT INTO sessions (id, created_at, ended_at, status, backend, policy_digest, workspace, argv, exit_code, events, head, sealed, log_path, log_size, log_mtime_ms, counts, hosts, denials)
       VALUES (@id, @created_at, @ended_at, @status, @backend, @policy_digest, @workspace, @argv, @exit_code, @events, @head, @sealed, @log_path, @log_size, @log_mtime_ms, @counts, @hosts, @denials)
       ON CONFLICT(id) DO UPDATE SET created_at=excluded.created_at, ended_at=excluded.ended_at, status=excluded.status, backend=excluded.backend,
         policy_digest=excluded.policy_digest, workspace=excluded.workspace, argv=excluded.argv, exit_code=excluded.exit_code, events=excluded.events,
         head=excluded.head, sealed=excluded.sealed, log_path=excluded.log_path, log_size=excluded.log_size, log_mtime_ms=excluded.log_mtime_ms,
         counts=excluded.counts, hosts=excluded.hosts, denials=excluded.denials`,
    ).run({
      id,
      created_at: (meta.createdAt as string | undefined) ?? start?.time ?? null,
      ended_at: (meta.endedAt as string | undefined) ?? end?.time ?? null,
      status: sessionStatus(meta.status as string | undefined, end ? String(end.detail.status ?? 'ended') : undefined),
      backend: (meta.backend as string | undefined) ?? (start?.detail.backend as string | undefined) ?? null,
      policy_digest: (meta.policyDigest as string | undefined) ?? (start?.detail.policyDigest as string | undefined) ?? null,
      workspace: (meta.workspace as string | undefined) ?? null,
      argv: JSON.stringify(meta.argv ?? []),
      exit_code: typeof meta.exitCode === 'number' ? meta.exitCode : typeof end?.detail.exitCode === 'number' ? end.detail.exitCode : null,
      events: events.length,
      head: events.length ? events[events.length - 1]!.hash : null,
      sealed: r?.sealed ? 1 : 0,
      log_path: file,
      log_size: st?.size ?? null,
      log_mtime_ms: st?.mtimeMs ?? null,
      counts: JSON.stringify(counts),
      hosts: JSON.stringify([...hosts].sort()),
      denials,
    });
  });
  tx();
  return events.length;
}

/** Reindexes the session when its log changed since it was indexed. */
export function ensureIndexed(id: string, db: DB = openIndex()): void {
  const file = join(sessionDir(id), LOG_FILE);
  const row = db.prepare('SELECT log_size, log_mtime_ms FROM sessions WHERE id = ?').get(id) as { log_size: number | null; log_mtime_ms: number | null } | undefined;
  const st = existsSync(file) ? statSync(file) : undefined;
  if (!row || (st?.size ?? null) !== row.log_size || (st?.mtimeMs ?? null) !== row.log_mtime_ms) indexSession(id, db);
}

/**
 * The status to show: what the workspace did afterwards (applied/discarded) wins, then the log's
 * own `session end`, then the metadata (a log without an end: still running, or killed).
 */
function sessionStatus(metaStatus: string | undefined, endStatus: string | undefined): string {
  if (metaStatus === 'applied' || metaStatus === 'discarded') return metaStatus;
  return endStatus ?? metaStatus ?? 'running';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function listIndexedSessions(db: DB = openIndex()): SessionRow[] {
  const ids = listSessionIds();
  for (const id of ids) ensureIndexed(id, db);
  const known = new Set(ids);
  const rows = (db.prepare('SELECT * FROM sessions ORDER BY id').all() as SessionRow[]).filter((r) => known.has(r.id));
  for (const r of rows) {
    // session.json changes (apply, discard) do not touch the log: read the status fresh
    try {
      const m = readSessionMeta(r.id);
      r.status = sessionStatus(m.status, r.sealed ? (r.status ?? undefined) : undefined);
      if (r.status === 'running' && typeof m.pid === 'number' && !alive(m.pid)) r.status = 'interrupted';
      if (r.exit_code === null && typeof m.exitCode === 'number') r.exit_code = m.exitCode;
    } catch {
      /* keep the indexed status */
    }
  }
  return rows;
}

export function sessionRow(id: string, db: DB = openIndex()): SessionRow | undefined {
  ensureIndexed(id, db);
  return db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined;
}

export function queryEvents(id: string, filter: { kinds?: EventKind[]; decision?: string } = {}, db: DB = openIndex()): AuditEvent[] {
  ensureIndexed(id, db);
  const where = ['session = ?'];
  const args: unknown[] = [id];
  if (filter.kinds?.length) {
    where.push(`kind IN (${filter.kinds.map(() => '?').join(',')})`);
    args.push(...filter.kinds);
  }
  if (filter.decision) {
    where.push('decision = ?');
    args.push(filter.decision);
  }
  const rows = db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY seq`).all(...args) as (Omit<AuditEvent, 'detail' | 'v'> & { detail: string })[];
  return rows.map((r) => ({ v: 1, seq: r.seq, time: r.time, session: r.session, kind: r.kind, action: r.action, decision: r.decision, subject: r.subject, detail: JSON.parse(r.detail) as Record<string, unknown>, prev: r.prev, hash: r.hash }));
}
