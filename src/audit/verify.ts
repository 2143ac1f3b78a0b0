/**
 * Verifies a session log line by line: JSON, envelope, seq continuity, the hash of each event,
 * the `prev` chain, the session key's certificate (signed by a trusted host key), every
 * checkpoint and the final seal. Each problem names the 1-based line and what it looks like
 * (edited, deleted, inserted/reordered, truncated, bad signature).
 *
 * A partly written last line (no trailing newline: the writer was killed mid-write) is not a
 * problem of the chain: it is reported as `partialTail` and the log is verified up to its last
 * complete line. A log without a valid seal is never `ok` (it was truncated or interrupted), but
 * `chainIntact` says whether everything present is consistent.
 */
import { readFileSync } from 'node:fs';
import type { AuditEvent } from './types.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { certificateValid, fingerprintOf, headMessage, trustedHostKeys, verifySig, type SessionCertificate } from './keys.js';
import { GENESIS_PREV } from './log.js';

export type ProblemCode = 'parse' | 'envelope' | 'edited' | 'deleted' | 'inserted' | 'reordered' | 'chain' | 'truncated' | 'signature' | 'certificate' | 'untrusted' | 'session';

export interface VerifyProblem {
  /** 1-based line number in the file (0 = the file as a whole). */
  line: number;
  code: ProblemCode;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Every complete line present is consistent (hashes, chain, signatures). */
  chainIntact: boolean;
  sealed: boolean;
  file: string;
  /** Complete lines read. */
  lines: number;
  sessionId?: string;
  publicKey?: string;
  hostFingerprint?: string;
  hostTrusted?: boolean;
  /** seq and hash of the last event that chains correctly. */
  head?: { seq: number; hash: string };
  /** Line of the last valid checkpoint or seal (everything up to it is signed). */
  lastSignedLine: number;
  partialTail: boolean;
  problems: VerifyProblem[];
  events: AuditEvent[];
}

export interface VerifyOptions {
  /** base64 SPKI host keys to trust (default: this machine's identity + identity/trusted/). */
  trustedKeys?: Set<string>;
  /** Expected event count and head from the index, to catch truncation after a valid line. */
  expected?: { events?: number; head?: string };
  /** Stop collecting after this many problems (default 50). */
  maxProblems?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function verifyLogFile(file: string, opts: VerifyOptions = {}): VerifyResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, chainIntact: false, sealed: false, file, lines: 0, lastSignedLine: 0, partialTail: false, events: [], problems: [{ line: 0, code: 'truncated', message: `cannot read ${file}: ${(err as Error).message}` }] };
  }
  return verifyLogText(text, file, opts);
}

export function verifyLogText(text: string, file: string, opts: VerifyOptions = {}): VerifyResult {
  const max = opts.maxProblems ?? 50;
  const problems: VerifyProblem[] = [];
  const add = (line: number, code: ProblemCode, message: string) => {
    if (problems.length < max) problems.push({ line, code, message });
  };
  let partialTail = false;
  let raw = text.split('\n');
  if (raw[raw.length - 1] === '') raw = raw.slice(0, -1);
  else if (raw.length > 0) {
    partialTail = true; // last line has no newline: a write cut short
    raw = raw.slice(0, -1);
  }
  const events: AuditEvent[] = [];
  let expectSeq = 0;
  let prev = GENESIS_PREV;
  let sessionId: string | undefined;
  let publicKey: string | undefined;
  let hostFingerprint: string | undefined;
  let hostTrusted: boolean | undefined;
  let lastSignedLine = 0;
  let sealed = false;
  let sealLine = 0;
  const seenHashes = new Set<string>();
  let head: { seq: number; hash: string } | undefined;

  for (let i = 0; i < raw.length; i++) {
    const line = i + 1;
    let e: AuditEvent;
    try {
      e = JSON.parse(raw[i]!) as AuditEvent;
    } catch {
      add(line, 'parse', `line ${line}: not valid JSON (edited or corrupted)`);
      continue;
    }
    const envErr = envelopeError(e);
    if (envErr) {
      add(line, 'envelope', `line ${line}: ${envErr}`);
      continue;
    }
    events.push(e);
    if (sealed) add(line, 'inserted', `line ${line}: event after the seal at line ${sealLine} (appended after the session ended)`);
    const { hash, ...body } = e;
    const computed = sha256Hex(canonicalJson(body));
    if (computed !== hash) {
      add(line, 'edited', `line ${line} (seq ${e.seq}): content does not match its hash: the event was edited`);
    } else if (e.seq !== expectSeq) {
      if (seenHashes.has(hash) || e.seq < expectSeq) add(line, 'reordered', `line ${line}: seq ${e.seq} where ${expectSeq} was expected: an event was inserted, duplicated or moved`);
      else add(line, 'deleted', `line ${line}: seq jumps from ${expectSeq - 1} to ${e.seq}: ${e.seq - expectSeq} event(s) deleted before this line`);
    } else if (e.prev !== prev) {
      add(line, 'chain', `line ${line} (seq ${e.seq}): prev does not match the hash of the event before: an event was inserted, deleted or replaced`);
    }
    if (sessionId === undefined) sessionId = e.session;
    else if (e.session !== sessionId) add(line, 'session', `line ${line}: event of session ${e.session} in the log of ${sessionId}`);
    if (i === 0 || (e.seq === 0 && e.kind === 'session' && e.action === 'start')) {
      if (!(e.kind === 'session' && e.action === 'start')) add(line, 'deleted', `line ${line}: the log does not begin with the session start event`);
      else {
        const cert = e.detail.certificate as SessionCertificate | undefined;
        publicKey = typeof e.detail.publicKey === 'string' ? e.detail.publicKey : undefined;
        if (!cert || !publicKey || cert.publicKey !== publicKey || cert.session !== e.session) {
          add(line, 'certificate', `line ${line}: the session start event carries no certificate for its public key`);
        } else if (!certificateValid(cert)) {
          add(line, 'certificate', `line ${line}: the host certificate of the session key has a bad signature`);
        } else {
          hostFingerprint = fingerprintOf(cert.hostPublicKey);
          const trusted = opts.trustedKeys ?? trustedHostKeys();
          hostTrusted = trusted.has(cert.hostPublicKey);
          if (!hostTrusted) add(line, 'untrusted', `line ${line}: the session key is certified by host key ${hostFingerprint}, which this machine does not trust (add its public key to $AIRLOCK_HOME/identity/trusted/)`);
        }
      }
    }
    if (e.kind === 'session' && (e.action === 'checkpoint' || e.action === 'seal')) {
      const d = e.detail as { seq?: number; head?: string; signature?: string };
      const target = events[events.length - 2];
      if (!publicKey) add(line, 'signature', `line ${line}: ${e.action} without a session key to check it`);
      else if (typeof d.signature !== 'string' || typeof d.head !== 'string' || typeof d.seq !== 'number' || !verifySig(publicKey, headMessage(e.session, d.seq, d.head), d.signature)) {
        add(line, 'signature', `line ${line}: bad ${e.action} signature (not made by this session's key)`);
      } else if (!target || target.seq !== d.seq || target.hash !== d.head) {
        add(line, 'signature', `line ${line}: the ${e.action} signs seq ${d.seq} but the event before it is seq ${target?.seq ?? 'none'}: events were inserted, deleted or changed`);
      } else lastSignedLine = line;
      if (e.action === 'seal') {
        sealed = true;
        sealLine = line;
      }
    }
    seenHashes.add(hash);
    if (problems.length === 0) head = { seq: e.seq, hash: e.hash };
    expectSeq = e.seq + 1;
    prev = hash;
  }

  if (raw.length === 0) add(0, 'truncated', `${file}: the log is empty`);
  else if (!sealed) {
    add(raw.length, 'truncated', `line ${raw.length}: the log ends without a seal: truncated, or airlock was interrupted (${lastSignedLine ? `signed up to line ${lastSignedLine}` : 'no signed checkpoint'})`);
  }
  if (opts.expected?.events !== undefined && opts.expected.events > raw.length) {
    add(raw.length, 'truncated', `the index recorded ${opts.expected.events} events but the log has ${raw.length} lines: truncated`);
  }
  if (opts.expected?.head && head && sealed && problems.length === 0 && opts.expected.head !== head.hash) {
    add(raw.length, 'chain', `the log head ${head.hash.slice(0, 16)}… differs from the head the index recorded (${opts.expected.head.slice(0, 16)}…)`);
  }
  const chainIntact = !problems.some((p) => p.code !== 'truncated' && p.code !== 'untrusted');
  return {
    ok: problems.length === 0 && sealed,
    chainIntact,
    sealed,
    file,
    lines: raw.length,
    sessionId,
    publicKey,
    hostFingerprint,
    hostTrusted,
    head,
    lastSignedLine,
    partialTail,
    problems,
    events,
  };
}

function envelopeError(e: unknown): string | undefined {
  if (!e || typeof e !== 'object' || Array.isArray(e)) return 'not an event object';
  const o = e as Record<string, unknown>;
  if (o.v !== 1) return `unsupported event version ${JSON.stringify(o.v)}`;
  if (!Number.isInteger(o.seq) || (o.seq as number) < 0) return 'seq is not a non-negative integer';
  for (const k of ['time', 'session', 'kind', 'action', 'decision', 'subject', 'prev', 'hash']) if (typeof o[k] !== 'string') return `missing or non-string "${k}"`;
  if (!o.detail || typeof o.detail !== 'object' || Array.isArray(o.detail)) return 'detail is not an object';
  if (!HEX64.test(o.hash as string) || !HEX64.test(o.prev as string)) return 'hash/prev are not SHA-256 hex';
  return undefined;
}
