/**
 * The audit vocabulary shared by every door. Producers (sandbox monitor, proxy, secrets broker,
 * workspace) hand an `EventInput` to an `AuditSink`; the audit log adds the envelope fields
 * (v, seq, time, session, prev, hash). See docs/audit-events.md for each kind's `detail`.
 */
export type EventKind = 'process' | 'file' | 'network' | 'secret' | 'policy' | 'session';
export type Decision = 'allow' | 'deny' | 'info';

export interface EventInput {
  kind: EventKind;
  /** e.g. process: exec|exit; file: create|write|delete|rename|chmod|open; network: connect|request;
   *  secret: issue|use|refuse|exfiltration|…; policy: deny; session: start|end|error|…. The closed
   *  list per kind is in docs/audit-events.md and the schema (test/docs-events.test.ts). */
  action: string;
  decision: Decision;
  /** The main object: an executable path, a file path, `host:port`, a secret name. */
  subject: string;
  detail?: Record<string, unknown>;
  /** Event time in ms since the epoch, when the source knows it (else: when appended). */
  timeMs?: number;
}

export interface AuditEvent extends Omit<EventInput, 'timeMs'> {
  v: 1;
  seq: number;
  time: string;
  session: string;
  detail: Record<string, unknown>;
  prev: string;
  hash: string;
}

/** Anything that accepts events. Must never throw into the caller's hot path. */
export interface AuditSink {
  emit(event: EventInput): void;
}
