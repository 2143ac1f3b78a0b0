/**
 * Where sessions live: `$AIRLOCK_HOME/sessions/<id>/` (AIRLOCK_HOME defaults to
 * `~/.local/state/airlock`). A session directory holds `session.json` (metadata), the staged
 * workspace layers, the audit log and the attestation. `last` names the most recent session.
 *
 * Layout (each module owns its own files in the directory):
 *   session.json        metadata (this module)
 *   workspace/          staging layers: upper/, work/, merged/ (workspace/)
 *   audit.jsonl         hash-chained event log (audit/)
 *   attestation.json    DSSE envelope (audit/)
 *   run/                sockets and the OCI bundle while running (sandbox/, network/)
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AirlockError } from '../util/errors.js';

export interface SessionMeta {
  id: string;
  createdAt: string;
  endedAt?: string;
  workspace: string;
  policyFile: string;
  policyDigest: string;
  backend: string;
  argv: string[];
  exitCode?: number;
  status: 'running' | 'ended' | 'applied' | 'discarded' | 'failed';
  /** Free-form extra fields owned by other modules (e.g. `baseTree`). */
  [key: string]: unknown;
}

export function airlockHome(): string {
  return process.env.AIRLOCK_HOME || defaultAirlockHome();
}

/** Where AIRLOCK_HOME is when the variable is not set. */
export function defaultAirlockHome(home = homedir()): string {
  return join(home, '.local', 'state', 'airlock');
}

export function sessionsRoot(): string {
  return join(airlockHome(), 'sessions');
}

/**
 * A sortable, unique session id: `20261128T183000123Z-3f9a1c2b` (UTC to the millisecond). Ids sort
 * in creation order, which is what `last` relies on: within one process a clash of milliseconds is
 * bumped forward, so two sessions started in the same second still sort as they were created.
 */
export function newSessionId(now = new Date()): string {
  let ms = now.getTime();
  if (ms <= lastIdMs) ms = lastIdMs + 1;
  lastIdMs = ms;
  const t = new Date(ms).toISOString().replace(/[-:.]/g, '');
  return `${t}-${randomBytes(4).toString('hex')}`;
}
let lastIdMs = 0;

export function sessionDir(id: string): string {
  if (!/^[0-9A-Za-z-]+$/.test(id)) throw new AirlockError('session-invalid', `"${id}" is not a session id`, 'use `airlock log list` to see sessions', 2);
  return join(sessionsRoot(), id);
}

export function createSessionDir(id: string): string {
  const dir = sessionDir(id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function writeSessionMeta(meta: SessionMeta): void {
  const file = join(sessionDir(meta.id), 'session.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function readSessionMeta(id: string): SessionMeta {
  const file = join(sessionDir(id), 'session.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SessionMeta;
  } catch {
    throw new AirlockError('session-unknown', `no session "${id}" under ${sessionsRoot()}`, 'use `airlock log list` to see sessions', 2);
  }
}

export function listSessionIds(): string[] {
  if (!existsSync(sessionsRoot())) return [];
  return readdirSync(sessionsRoot()).filter((n) => existsSync(join(sessionsRoot(), n, 'session.json'))).sort();
}

/** Resolves `last`, a full id or a unique id prefix/suffix to a session id. */
export function resolveSession(ref: string | undefined): string {
  const ids = listSessionIds();
  if (!ref || ref === 'last') {
    const last = ids[ids.length - 1];
    if (!last) throw new AirlockError('session-none', `no sessions yet under ${sessionsRoot()}`, 'run one with `airlock run`', 2);
    return last;
  }
  if (ids.includes(ref)) return ref;
  const matches = ids.filter((id) => id.startsWith(ref) || id.endsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new AirlockError('session-ambiguous', `"${ref}" matches ${matches.length} sessions`, 'give more of the id', 2);
  throw new AirlockError('session-unknown', `no session "${ref}" under ${sessionsRoot()}`, 'use `airlock log list` to see sessions', 2);
}
