/**
 * The session's append-only audit log: `<sessionDir>/audit.jsonl`, one event per line.
 *
 * - Every event gets the envelope `{v, seq, time, session, kind, action, decision, subject,
 *   detail, prev, hash}`; `hash` = SHA-256 (hex) of the canonical JSON of the event without
 *   `hash`; `prev` = the previous event's hash (64 zeros for seq 0). Editing, deleting,
 *   inserting or reordering a line breaks the chain.
 * - seq 0 is `session start`: policy digest, backend, the session's Ed25519 public key and the
 *   host identity's certificate for it (see keys.ts).
 * - The head is signed with the session key in `session checkpoint` events (every
 *   `checkpointEvery` events or `checkpointIntervalMs`, whichever first) and, after `session end`,
 *   in the final `session seal` event: `detail {head, seq, signature}` where `head`/`seq` name the
 *   event just before it and the signature covers `airlock-audit-head/v1\n<session>\n<seq>\n<head>`.
 *   A log whose last line is not a valid seal was truncated or its writer was killed.
 * - Writes are batched (`batchSize` events or `flushIntervalMs`) and each batch is one `write`
 *   followed by an `fsync` (in the thread pool, so the monitor socket keeps draining). After
 *   kill -9 at most the unwritten batch (≤ flushIntervalMs of events) is lost, and a partly written
 *   last line is ignored by the verifier: the log verifies up to its last complete line.
 * - `emit` never throws. If the log cannot be written the log fails closed: `failed` resolves
 *   with the error, `onError` is called once, and the session must stop.
 */
import { closeSync, fsync, fsyncSync, openSync, writeSync, constants as fsc, existsSync } from 'node:fs';
import { join } from 'node:path';
import { sign } from 'node:crypto';
import type { AuditEvent, AuditSink, EventInput, EventKind } from './types.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { headMessage, loadHostIdentity, newSessionKey, type SessionCertificate, type SessionKey } from './keys.js';
import { AirlockError } from '../util/errors.js';

export const GENESIS_PREV = '0'.repeat(64);
export const LOG_FILE = 'audit.jsonl';

export interface OpenAuditLogOptions {
  sessionId: string;
  sessionDir: string;
  /** SHA-256 of the policy text (Policy.source.digest). */
  policyDigest?: string;
  /** Sandbox backend name. */
  backend?: string;
  /** More fields for the start event's detail (workspace, argv, policy file...). */
  start?: Record<string, unknown>;
  /** Called once when the log fails (write error): stop the session. */
  onError?: (err: Error) => void;
  flushIntervalMs?: number;
  batchSize?: number;
  checkpointEvery?: number;
  checkpointIntervalMs?: number;
  /** Index the session in $AIRLOCK_HOME/index.db at close (default true). */
  index?: boolean;
}

/** What the session knows at the end, recorded in `session end`. */
export interface SessionEndSummary {
  exitCode?: number;
  signal?: string;
  /** Why the session stopped when it was not the agent's own exit (limit, monitor failure...). */
  reason?: string;
  status?: 'ended' | 'failed';
  [key: string]: unknown;
}

/** Running tallies, for the summary and the attestation. */
export interface AuditStats {
  events: number;
  byKind: Record<EventKind, number>;
  denials: { kind: EventKind; action: string; subject: string; reason?: string }[];
  hosts: Record<string, { methods: string[]; requests: number; denied: number }>;
  executables: Record<string, number>;
  files: Record<string, string>;
  secretsUsed: string[];
  secretsRefused: string[];
  dropped: number;
  startedAt: string;
  endedAt?: string;
}

export interface SealInfo {
  seq: number;
  head: string;
  signature: string;
  path: string;
  events: number;
}

const KINDS: EventKind[] = ['process', 'file', 'network', 'secret', 'policy', 'session'];

export class AuditLog implements AuditSink {
  readonly sessionId: string;
  readonly sessionDir: string;
  readonly path: string;
  readonly publicKey: string;
  readonly certificate: SessionCertificate;
  readonly stats: AuditStats;
  /** Resolves (never rejects) with the error that stopped the log. */
  readonly failed: Promise<Error>;
  error?: Error;

  private fd: number;
  private key: SessionKey | undefined;
  private seq = 0;
  private prev = GENESIS_PREV;
  private pending: string[] = [];
  private dirty = false;
  private syncing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private cpTimer: NodeJS.Timeout | undefined;
  private sinceCheckpoint = 0;
  private closed = false;
  private resolveFailed!: (e: Error) => void;
  private redactions: { value: string; label: string }[] = [];
  private readonly opts: Required<Pick<OpenAuditLogOptions, 'flushIntervalMs' | 'batchSize' | 'checkpointEvery' | 'checkpointIntervalMs'>> & OpenAuditLogOptions;

  constructor(opts: OpenAuditLogOptions) {
    this.opts = { flushIntervalMs: 50, batchSize: 256, checkpointEvery: 1000, checkpointIntervalMs: 10_000, ...opts };
    this.sessionId = opts.sessionId;
    this.sessionDir = opts.sessionDir;
    this.path = join(opts.sessionDir, LOG_FILE);
    this.failed = new Promise((r) => (this.resolveFailed = r));
    if (existsSync(this.path)) {
      throw new AirlockError('audit-exists', `${this.path}: an audit log already exists for session ${opts.sessionId}`, 'a session log is written once; start a new session', 1);
    }
    const host = loadHostIdentity();
    this.key = newSessionKey(opts.sessionId, host);
    this.publicKey = this.key.publicKeyB64;
    this.certificate = this.key.certificate;
    try {
      this.fd = openSync(this.path, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    } catch (err) {
      throw new AirlockError('audit-open', `${this.path}: cannot create the audit log: ${(err as Error).message}`, 'check that $AIRLOCK_HOME is writable', 1);
    }
    const now = new Date();
    this.stats = { events: 0, byKind: Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<EventKind, number>, denials: [], hosts: {}, executables: {}, files: {}, secretsUsed: [], secretsRefused: [], dropped: 0, startedAt: now.toISOString() };
    this.append({
      kind: 'session',
      action: 'start',
      decision: 'info',
      subject: opts.sessionId,
      timeMs: now.getTime(),
      detail: {
        ...(opts.start ?? {}),
        policyDigest: opts.policyDigest ?? null,
        backend: opts.backend ?? null,
        publicKey: this.publicKey,
        hostFingerprint: host.fingerprint,
        certificate: this.certificate,
        pid: process.pid,
      },
    });
    this.flush();
    if (this.error) throw new AirlockError('audit-write', `${this.path}: cannot write the audit log: ${this.error.message}`, 'check free space and permissions under $AIRLOCK_HOME', 1);
    this.cpTimer = setInterval(() => this.checkpoint(), this.opts.checkpointIntervalMs);
    this.cpTimer.unref();
  }

  /** Records one event. Never throws; after a failure or close it drops silently (the session is already stopping). */
  emit(event: EventInput): void {
    if (this.closed || this.error) return;
    if (event.kind === 'session' && (event.action === 'checkpoint' || event.action === 'seal' || event.action === 'start')) {
      event = { ...event, action: `${event.action}-reported` };
    }
    this.append(event);
  }

  /** Values (secret material) that must never reach the log; replaced by `[redacted:LABEL]`. */
  redact(value: string, label: string): void {
    if (value.length >= 4) this.redactions.push({ value, label });
  }

  /** The hash and seq of the last appended event. */
  head(): { seq: number; hash: string } {
    return { seq: this.seq - 1, hash: this.prev };
  }

  /** Signs arbitrary bytes with the session key (for the DSSE attestation); null once sealed. */
  signBytes(data: Buffer): string | null {
    if (!this.key) return null;
    return sign(null, data, this.key.privateKey).toString('base64');
  }

  /** Appends a signed `session checkpoint` over the current head. */
  checkpoint(): void {
    if (this.closed || this.error || !this.key || this.sinceCheckpoint === 0) return;
    const { seq, hash } = this.head();
    const signature = sign(null, headMessage(this.sessionId, seq, hash), this.key.privateKey).toString('base64');
    this.append({ kind: 'session', action: 'checkpoint', decision: 'info', subject: this.sessionId, detail: { seq, head: hash, signature } });
    this.sinceCheckpoint = 0;
  }

  /**
   * Writes everything pending (one append `write`) and fsyncs. With `sync: false` (the batch timer
   * and size triggers) the fsync runs in the thread pool, so the event loop keeps draining the
   * monitor socket; the data is already in the kernel then, so a kill -9 of airlock loses nothing
   * written — only a machine crash can lose the last batch. Explicit calls fsync synchronously.
   */
  flush(opts: { sync?: boolean } = {}): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.error) return;
    if (this.pending.length > 0) {
      const data = Buffer.from(this.pending.join(''));
      this.pending = [];
      try {
        let off = 0;
        while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      this.dirty = true;
    }
    if (!this.dirty) return;
    if (opts.sync !== false) {
      try {
        fsyncSync(this.fd);
        this.dirty = false;
      } catch (err) {
        this.fail(err as Error);
      }
      return;
    }
    if (this.syncing) return; // the running fsync's callback starts another one for what came since
    this.syncing = new Promise<void>((resolve) => {
      this.dirty = false;
      fsync(this.fd, (err) => {
        this.syncing = undefined;
        if (err && !this.closed) this.fail(err);
        else if (this.dirty && !this.closed) this.flush({ sync: false });
        resolve();
      });
    });
  }

  /**
   * Ends the log: `session end` with the summary and stats, then the signed `session seal`;
   * fsyncs, closes, forgets the session private key, and indexes the session.
   */
  async close(summary: SessionEndSummary = {}): Promise<SealInfo> {
    if (this.closed) throw new AirlockError('audit-closed', `${this.path}: the audit log is already closed`, undefined, 70);
    if (this.cpTimer) clearInterval(this.cpTimer);
    const endedAt = new Date();
    this.stats.endedAt = endedAt.toISOString();
    this.append({
      kind: 'session',
      action: 'end',
      decision: 'info',
      subject: this.sessionId,
      timeMs: endedAt.getTime(),
      detail: {
        ...summary,
        status: summary.status ?? (this.error ? 'failed' : 'ended'),
        counts: { ...this.stats.byKind },
        events: this.stats.events + 1,
        dropped: this.stats.dropped,
        hosts: Object.keys(this.stats.hosts).sort(),
        denials: this.stats.denials.length,
        durationMs: endedAt.getTime() - Date.parse(this.stats.startedAt),
      },
    });
    const { seq, hash } = this.head();
    const signature = sign(null, headMessage(this.sessionId, seq, hash), this.key!.privateKey).toString('base64');
    this.append({ kind: 'session', action: 'seal', decision: 'info', subject: this.sessionId, detail: { seq, head: hash, signature } });
    if (this.syncing) await this.syncing;
    this.closed = true;
    this.flush();
    try {
      closeSync(this.fd);
    } catch {
      /* already failed */
    }
    const failedBeforeSeal = this.error;
    if (failedBeforeSeal) {
      this.key = undefined;
      throw new AirlockError('audit-write', `${this.path}: the audit log could not be written: ${failedBeforeSeal.message}`, 'the log is incomplete; `airlock log verify` shows up to where it holds', 1);
    }
    const info: SealInfo = { seq: this.seq - 1, head: this.prev, signature, path: this.path, events: this.seq };
    if (this.opts.index !== false) {
      try {
        const { indexSession, recordSeal } = await import('./store.js');
        indexSession(this.sessionId);
        recordSeal(this.sessionId, info.events, info.head);
      } catch (err) {
        process.stderr.write(`airlock: warning: could not index session ${this.sessionId}: ${(err as Error).message}\n`);
      }
    }
    return info;
  }

  /** Forgets the session private key (after the attestation has been signed). */
  forgetKey(): void {
    this.key = undefined;
  }

  private append(input: EventInput): void {
    try {
      const time = new Date(input.timeMs ?? Date.now()).toISOString();
      // most details (every monitor event) are already plain JSON: use them as they are
      let detail = (isPlainJson(input.detail ?? {}, 0) ? (input.detail ?? {}) : jsonSafe(input.detail ?? {})) as Record<string, unknown>;
      let subject = String(input.subject ?? '');
      if (this.redactions.length) {
        detail = redactDeep(detail, this.redactions) as Record<string, unknown>;
        subject = redactDeep(subject, this.redactions) as string;
      }
      const action = String(input.action);
      const body = { v: 1 as const, seq: this.seq, time, session: this.sessionId, kind: input.kind, action, decision: input.decision, subject, detail, prev: this.prev };
      let hash: string;
      let line: string;
      if (typeof input.kind === 'string' && typeof input.decision === 'string') {
        // One serialisation of the detail serves both the hash and the line: the canonical body is
        // the envelope's members in sorted key order around the canonical detail.
        const q = JSON.stringify;
        const det = canonicalJson(detail);
        const sub = q(subject);
        const act = q(action);
        const dec = q(input.decision);
        const kind = q(input.kind);
        const sess = q(this.sessionId);
        hash = sha256Hex(`{"action":${act},"decision":${dec},"detail":${det},"kind":${kind},"prev":"${this.prev}","seq":${this.seq},"session":${sess},"subject":${sub},"time":"${time}","v":1}`);
        line = `{"v":1,"seq":${this.seq},"time":"${time}","session":${sess},"kind":${kind},"action":${act},"decision":${dec},"subject":${sub},"detail":${det},"prev":"${this.prev}","hash":"${hash}"}\n`;
      } else {
        hash = sha256Hex(canonicalJson(body));
        line = `${JSON.stringify({ ...body, hash })}\n`;
      }
      this.pending.push(line);
      this.seq++;
      this.prev = hash;
      this.sinceCheckpoint++;
      this.tally(body);
      if (this.pending.length >= this.opts.batchSize) this.flush({ sync: false });
      else if (!this.timer && !this.closed) {
        this.timer = setTimeout(() => this.flush({ sync: false }), this.opts.flushIntervalMs);
        this.timer.unref();
      }
      if (this.sinceCheckpoint >= this.opts.checkpointEvery && input.kind !== 'session') this.checkpoint();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private tally(e: Omit<AuditEvent, 'hash'>): void {
    const s = this.stats;
    s.events++;
    s.byKind[e.kind] = (s.byKind[e.kind] ?? 0) + 1;
    if (e.decision === 'deny') s.denials.push({ kind: e.kind, action: e.action, subject: e.subject, reason: typeof e.detail.reason === 'string' ? e.detail.reason : undefined });
    if (e.kind === 'network' && e.detail.source !== 'gvisor') {
      // socket-level connects seen by the monitor (the in-sandbox relay on loopback) are not egress
      const host = e.subject.replace(/:\d+$/, '');
      const h = (s.hosts[host] ??= { methods: [], requests: 0, denied: 0 });
      h.requests++;
      if (e.decision === 'deny') h.denied++;
      const m = typeof e.detail.method === 'string' ? e.detail.method.toUpperCase() : undefined;
      if (m && !h.methods.includes(m)) h.methods.push(m);
    }
    if (e.kind === 'process' && e.action === 'exec' && e.decision !== 'deny') s.executables[e.subject] = (s.executables[e.subject] ?? 0) + 1;
    if (e.kind === 'file' && e.decision !== 'deny') s.files[e.subject] = e.action;
    if (e.kind === 'secret' && e.action === 'use' && !s.secretsUsed.includes(e.subject)) s.secretsUsed.push(e.subject);
    if (e.kind === 'secret' && e.decision === 'deny' && !s.secretsRefused.includes(e.subject)) s.secretsRefused.push(e.subject);
    if (typeof e.detail.dropped === 'number' && e.detail.dropped > s.dropped) s.dropped = e.detail.dropped;
  }

  private fail(err: Error): void {
    if (this.error) return;
    this.error = err;
    this.resolveFailed(err);
    try {
      this.opts.onError?.(err);
    } catch {
      /* the callback must not break the sink */
    }
  }
}

/** Opens a new session log (writes and fsyncs `session start` before resolving). */
export async function openAuditLog(opts: OpenAuditLogOptions): Promise<AuditLog> {
  return new AuditLog(opts);
}

/**
 * True when `v` serialises the same through canonicalJson and JSON.stringify as through jsonSafe:
 * strings, booleans, null, finite numbers, and arrays and plain objects of those (undefined
 * members are dropped by both). Anything else (Buffers, bigints, Dates, class instances, deep or
 * cyclic structures) takes the jsonSafe copy.
 */
function isPlainJson(v: unknown, depth: number): boolean {
  if (v === null || v === undefined) return true;
  const t = typeof v;
  if (t === 'string' || t === 'boolean') return true;
  if (t === 'number') return Number.isFinite(v);
  if (t !== 'object' || depth > 16) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (!isPlainJson(x, depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const k in v as Record<string, unknown>) if (!isPlainJson((v as Record<string, unknown>)[k], depth + 1)) return false;
  return true;
}

/** Makes a detail object JSON-safe: Buffers → base64, bigint → string, drops functions, cuts cycles. */
export function jsonSafe(v: unknown, seen = new WeakSet<object>()): unknown {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (typeof v !== 'object') return v;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Error) return { error: v.message };
  if (seen.has(v)) return '[cycle]';
  seen.add(v);
  if (Array.isArray(v)) return v.map((x) => jsonSafe(x, seen) ?? null);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const s = jsonSafe(x, seen);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

function redactDeep(v: unknown, reds: { value: string; label: string }[]): unknown {
  if (typeof v === 'string') {
    let s = v;
    for (const r of reds) if (s.includes(r.value)) s = s.split(r.value).join(`[redacted:${r.label}]`);
    return s;
  }
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, reds));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactDeep(x, reds)]));
  return v;
}
