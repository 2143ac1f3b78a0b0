/**
 * Session attestations: an in-toto Statement v1 in a DSSE envelope, signed with the session key.
 *
 * - subject: `airlock-staged-changes` with `sha256` = `changesDigest(...)`, a digest over the
 *   normalised list of what the session changed (see below), so the same digest can be recomputed
 *   from a git commit that applied those changes.
 * - predicateType `https://airlock.dev/session/v1`; predicate: session id, policy digest, backend,
 *   timings, exit code, counts, hosts (methods), denials, executables, secrets used, dropped monitor
 *   events, the log head (seq + hash of the seal event), and the session public key with the host
 *   certificate (so a verifier needs only the trusted host key).
 * - DSSE: `{payloadType: "application/vnd.in-toto+json", payload: base64, signatures: [{keyid, sig}]}`,
 *   the signature over PAE(payloadType, payload) = `DSSEv1 <len> <type> <len> <payload>`.
 * - `attachAttestation` stores the envelope as a git note under `refs/notes/airlock` (blob written
 *   with `git hash-object`, attached with `git notes add -C`, so git never reformats it).
 * - `verifyAttestation(repo, rev)` checks: the note exists; DSSE signature by the session key; the
 *   key's certificate and that its host key is trusted; the subject digest against the commit's
 *   own changes (vs. its first parent); the `Airlock-Session` trailer if present; and, when the
 *   session log is on this machine, that the log verifies and ends at the attested head.
 *
 * The changes digest: SHA-256 of the canonical JSON of the list, sorted by path, of
 * `{path, op: "put", type: "file"|"symlink", sha256, exec}` for created/modified/renamed-to paths
 * and `{path, op: "delete"}` for deleted/renamed-from paths. Directories and mode changes other
 * than the executable bit are left out: git cannot represent them, and the digest must be
 * computable from a commit.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, sha256Hex } from './canonical.js';
import { certificateValid, fingerprintOf, trustedHostKeys, verifySig, type SessionCertificate } from './keys.js';
import type { AuditLog, SealInfo } from './log.js';
import { verifyLogFile } from './verify.js';
import { AirlockError } from '../util/errors.js';
import { sessionsRoot } from '../session/store.js';
import type { FileChange } from '../workspace/index.js';

export const PREDICATE_TYPE = 'https://airlock.dev/session/v1';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const NOTES_REF = 'refs/notes/airlock';
export const ATTESTATION_FILE = 'attestation.json';

/** The part of workspace's FileChange the digest needs (tests may build these by hand). */
export type ChangeLike = Pick<FileChange, 'kind' | 'type' | 'path' | 'oldPath' | 'mode' | 'oldMode' | 'sha256'>;

export type DigestEntry = { path: string; op: 'put'; type: 'file' | 'symlink'; sha256: string; exec: boolean } | { path: string; op: 'delete' };

export function digestEntriesFromChanges(changes: ChangeLike[]): DigestEntry[] {
  const out = new Map<string, DigestEntry>();
  for (const c of changes) {
    if (c.type === 'dir') continue;
    if (c.kind === 'delete') {
      out.set(c.path, { path: c.path, op: 'delete' });
      continue;
    }
    if (c.kind === 'rename' && c.oldPath) out.set(c.oldPath, { path: c.oldPath, op: 'delete' });
    if (c.kind === 'chmod' && (((c.mode ?? 0) & 0o100) !== 0) === (((c.oldMode ?? 0) & 0o100) !== 0)) continue;
    if (!c.sha256) continue;
    out.set(c.path, { path: c.path, op: 'put', type: c.type, sha256: c.sha256, exec: c.type === 'file' && ((c.mode ?? 0) & 0o100) !== 0 });
  }
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function changesDigest(entries: DigestEntry[]): string {
  return sha256Hex(canonicalJson(entries));
}

function git(repo: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; binary?: boolean } = {}): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync('git', ['-C', repo, ...args], { input: opts.input, env: opts.env ?? process.env, maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw new AirlockError('git', `git ${args[0]}: ${r.error.message}`, 'is git installed?', 1);
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** The digest entries for what `commit` changed relative to its first parent (or the empty tree). */
export function digestEntriesFromCommit(repo: string, commit: string): DigestEntry[] {
  const parents = git(repo, ['rev-list', '--parents', '-n', '1', commit]).stdout.toString().trim().split(/\s+/).slice(1);
  const args = parents.length ? ['diff-tree', '-r', '--no-renames', '-z', '--raw', '--no-commit-id', parents[0]!, commit] : ['diff-tree', '-r', '--root', '--no-renames', '-z', '--raw', '--no-commit-id', commit];
  const r = git(repo, args);
  if (r.status !== 0) throw new AirlockError('attest-git', `git diff-tree ${commit}: ${r.stderr.trim()}`, undefined, 1);
  const parts = r.stdout.toString('utf8').split('\0').filter((x, i, a) => x !== '' || i < a.length - 1);
  const out: DigestEntry[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const meta = parts[i]!.replace(/^:/, '').split(' ');
    const path = parts[i + 1]!;
    const [, newMode, , newSha, status] = meta;
    if (status === 'D') {
      out.push({ path, op: 'delete' });
      continue;
    }
    if (newMode === '160000') continue; // submodule
    const blob = git(repo, ['cat-file', 'blob', newSha!]).stdout;
    const sha256 = createHash('sha256').update(blob).digest('hex');
    out.push({ path, op: 'put', type: newMode === '120000' ? 'symlink' : 'file', sha256, exec: newMode === '100755' });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

/** DSSE pre-authentication encoding. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const t = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${payload.length} `), payload]);
}

export interface SessionPredicate {
  session: string;
  policy: { digest: string | null; file?: string };
  backend: string | null;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  exitCode?: number;
  reason?: string;
  counts: Record<string, number>;
  hosts: { host: string; methods: string[]; requests: number; denied: number }[];
  denials: { kind: string; action: string; subject: string; reason?: string }[];
  executables: string[];
  secretsUsed: string[];
  filesChanged: number;
  droppedMonitorEvents: number;
  log: { seq: number; head: string; events: number };
  /** The digest entries themselves (up to 20000), so a commit holding only part of them (ignored files left out) still verifies path by path. */
  changes?: DigestEntry[];
  sessionKey: { publicKey: string; certificate: SessionCertificate };
}

export interface Statement {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: SessionPredicate;
}

/**
 * Builds and signs the attestation for a closed log (the session key is still in memory until
 * `log.forgetKey()`), writes `<sessionDir>/attestation.json` and returns the envelope.
 */
export function writeSessionAttestation(log: AuditLog, seal: SealInfo, opts: { changes: ChangeLike[]; policyDigest?: string | null; policyFile?: string; backend?: string | null; exitCode?: number; reason?: string }): DsseEnvelope {
  const st = log.stats;
  const entries = digestEntriesFromChanges(opts.changes);
  const statement: Statement = {
    _type: STATEMENT_TYPE,
    subject: [{ name: 'airlock-staged-changes', digest: { sha256: changesDigest(entries) } }],
    predicateType: PREDICATE_TYPE,
    predicate: {
      session: log.sessionId,
      policy: { digest: opts.policyDigest ?? null, file: opts.policyFile },
      backend: opts.backend ?? null,
      startedAt: st.startedAt,
      endedAt: st.endedAt,
      durationMs: st.endedAt ? Date.parse(st.endedAt) - Date.parse(st.startedAt) : undefined,
      exitCode: opts.exitCode,
      reason: opts.reason,
      counts: { ...st.byKind },
      hosts: Object.entries(st.hosts).map(([host, v]) => ({ host, methods: [...v.methods].sort(), requests: v.requests, denied: v.denied })),
      denials: st.denials.slice(0, 200),
      executables: Object.keys(st.executables).sort(),
      secretsUsed: [...st.secretsUsed].sort(),
      filesChanged: opts.changes.length,
      droppedMonitorEvents: st.dropped,
      log: { seq: seal.seq, head: seal.head, events: seal.events },
      changes: entries.length <= 20000 ? entries : undefined,
      sessionKey: { publicKey: log.publicKey, certificate: log.certificate },
    },
  };
  const payload = Buffer.from(JSON.stringify(statement));
  const sig = log.signBytes(pae(DSSE_PAYLOAD_TYPE, payload));
  if (!sig) throw new AirlockError('attest-key', `session ${log.sessionId}: the session key is gone; cannot sign the attestation`, undefined, 70);
  const env: DsseEnvelope = { payloadType: DSSE_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures: [{ keyid: fingerprintOf(log.publicKey), sig }] };
  writeFileSync(join(log.sessionDir, ATTESTATION_FILE), `${JSON.stringify(env, null, 2)}\n`, { mode: 0o644 });
  return env;
}

/**
 * Stores the session's attestation as a git note on `commit` under refs/notes/airlock.
 * Called by `airlock apply --commit`.
 */
export function attachAttestation(opts: { repo: string; commit: string; sessionId: string; sessionDir: string }): { ref: string; commit: string } {
  const file = join(opts.sessionDir, ATTESTATION_FILE);
  if (!existsSync(file)) throw new AirlockError('attest-missing', `session ${opts.sessionId} has no attestation (${file})`, 'only sessions that ended normally are attested', 1);
  const text = readFileSync(file, 'utf8');
  const env = parseEnvelope(text, file);
  const st = decodeStatement(env);
  if (st.predicate.session !== opts.sessionId) throw new AirlockError('attest-mismatch', `${file} attests session ${st.predicate.session}, not ${opts.sessionId}`, undefined, 1);
  const commit = git(opts.repo, ['rev-parse', '--verify', `${opts.commit}^{commit}`]).stdout.toString().trim();
  if (!commit) throw new AirlockError('attest-rev', `${opts.repo}: "${opts.commit}" is not a commit`, undefined, 1);
  const blob = git(opts.repo, ['hash-object', '-w', '--stdin'], { input: text }).stdout.toString().trim();
  const env2 = { ...process.env };
  const hasIdent = git(opts.repo, ['config', 'user.email']).status === 0 || env2.GIT_COMMITTER_EMAIL;
  if (!hasIdent) Object.assign(env2, { GIT_COMMITTER_NAME: 'airlock', GIT_COMMITTER_EMAIL: 'airlock@localhost', GIT_AUTHOR_NAME: 'airlock', GIT_AUTHOR_EMAIL: 'airlock@localhost' });
  const r = git(opts.repo, ['notes', `--ref=${NOTES_REF}`, 'add', '-f', '-C', blob, commit], { env: env2 });
  if (r.status !== 0) throw new AirlockError('attest-notes', `git notes add on ${commit.slice(0, 12)}: ${r.stderr.trim()}`, undefined, 1);
  return { ref: NOTES_REF, commit };
}

function parseEnvelope(text: string, where: string): DsseEnvelope {
  let env: DsseEnvelope;
  try {
    env = JSON.parse(text) as DsseEnvelope;
  } catch {
    throw new AirlockError('attest-parse', `${where}: not a JSON DSSE envelope`, undefined, 1);
  }
  if (typeof env?.payload !== 'string' || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures)) throw new AirlockError('attest-parse', `${where}: not a DSSE envelope (payloadType, payload, signatures)`, undefined, 1);
  return env;
}

export function decodeStatement(env: DsseEnvelope): Statement {
  try {
    return JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Statement;
  } catch {
    throw new AirlockError('attest-parse', 'the DSSE payload is not a JSON statement', undefined, 1);
  }
}

export interface AttestCheck {
  name: string;
  ok: boolean | null;
  detail: string;
}

export interface AttestVerifyResult {
  ok: boolean;
  commit: string;
  session?: string;
  checks: AttestCheck[];
  statement?: Statement;
}

export interface EnvelopeVerifyResult {
  ok: boolean;
  /** One line: why it failed, or what was verified. */
  reason: string;
  checks: AttestCheck[];
  statement?: Statement;
}

/**
 * The checks every attestation gets: an in-toto statement of our predicate, signed (DSSE) by the
 * session key it names, that key certified for that session by a host key trusted here.
 * Returns false when the statement is not ours at all (nothing further can be checked).
 */
function checkSignedStatement(env: DsseEnvelope, st: Statement, add: (name: string, ok: boolean | null, detail: string) => void, trustedKeys?: Set<string>): boolean {
  const p = st.predicate;
  const typeOk = env.payloadType === DSSE_PAYLOAD_TYPE && st._type === STATEMENT_TYPE && st.predicateType === PREDICATE_TYPE && !!p?.sessionKey?.publicKey;
  add('statement', typeOk, typeOk ? `in-toto statement, predicate ${PREDICATE_TYPE}, session ${p.session}` : 'unexpected payload/statement/predicate type');
  if (!typeOk) return false;
  const payload = Buffer.from(env.payload, 'base64');
  const sigOk = env.signatures.some((x) => verifySig(p.sessionKey.publicKey, pae(env.payloadType, payload), x.sig));
  add('signature', sigOk, sigOk ? `signed by session key ${fingerprintOf(p.sessionKey.publicKey).slice(0, 23)}…` : 'no signature by the session key over the payload: the attestation was altered');
  const cert = p.sessionKey.certificate;
  const certOk = !!cert && certificateValid(cert) && cert.publicKey === p.sessionKey.publicKey && cert.session === p.session;
  add('certificate', certOk, certOk ? `session key certified by host ${fingerprintOf(cert.hostPublicKey).slice(0, 23)}…` : 'the session key certificate is invalid or does not match');
  if (certOk) {
    const trusted = (trustedKeys ?? trustedHostKeys()).has(cert.hostPublicKey);
    add('host', trusted, trusted ? 'the certifying host key is trusted here' : `host key ${fingerprintOf(cert.hostPublicKey)} is not trusted here (add its public key to $AIRLOCK_HOME/identity/trusted/)`);
  }
  return true;
}

/**
 * Verifies an attestation envelope on its own (no repository): DSSE signature by the session key,
 * the key's host certificate and trust, and — when given — that it names `ctx.publicKey` and the
 * log head `ctx.head`. The subject is not checked here (that needs the commit: `verifyAttestation(repo, rev)`).
 */
export function verifyEnvelope(envelope: unknown, ctx: { publicKey?: string; head?: string; trustedKeys?: Set<string> } = {}): EnvelopeVerifyResult {
  const checks: AttestCheck[] = [];
  const add = (name: string, ok: boolean | null, detail: string) => checks.push({ name, ok, detail });
  const done = (statement?: Statement): EnvelopeVerifyResult => {
    const bad = checks.find((c) => c.ok === false);
    return { ok: !bad, reason: bad ? bad.detail : checks.map((c) => c.detail).join('; '), checks, statement };
  };
  let env: DsseEnvelope;
  let st: Statement;
  try {
    env = parseEnvelope(typeof envelope === 'string' ? envelope : JSON.stringify(envelope), 'attestation');
    st = decodeStatement(env);
  } catch (err) {
    add('envelope', false, (err as Error).message);
    return done();
  }
  const p = st.predicate;
  if (!checkSignedStatement(env, st, add, ctx.trustedKeys)) return done(st);
  if (ctx.publicKey !== undefined) add('key', ctx.publicKey === p.sessionKey.publicKey, ctx.publicKey === p.sessionKey.publicKey ? 'the session key is the one in the session log' : 'the attestation is signed by a different key than the session log\'s');
  if (ctx.head !== undefined) add('log', ctx.head === p.log?.head, ctx.head === p.log?.head ? 'the attestation names the session log\'s head' : `the attestation names log head ${String(p.log?.head).slice(0, 16)}…, the log ends at ${ctx.head.slice(0, 16)}…`);
  return done(st);
}

/**
 * Verifies the attestation attached to `rev` (see the module doc for the checks).
 * Called with an envelope object instead of a repository path, it verifies the envelope alone
 * (`verifyEnvelope`), for callers that already hold the note.
 */
export function verifyAttestation(envelope: object, ctx?: { commit?: string; publicKey?: string; head?: string }): EnvelopeVerifyResult;
export function verifyAttestation(repo: string, rev: string, opts?: { trustedKeys?: Set<string>; sessionsRoot?: string }): AttestVerifyResult;
export function verifyAttestation(a: string | object, b?: string | { commit?: string; publicKey?: string; head?: string }, c?: { trustedKeys?: Set<string>; sessionsRoot?: string }): AttestVerifyResult | EnvelopeVerifyResult {
  if (typeof a !== 'string') return verifyEnvelope(a, typeof b === 'object' ? b : {});
  return verifyAttestationAt(a, String(b), c ?? {});
}

function verifyAttestationAt(repo: string, rev: string, opts: { trustedKeys?: Set<string>; sessionsRoot?: string }): AttestVerifyResult {
  const rp = git(repo, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  const commit = rp.stdout.toString().trim();
  if (rp.status !== 0 || !commit) throw new AirlockError('attest-rev', `${repo}: "${rev}" is not a commit`, 'give a commit, branch or tag', 2);
  const checks: AttestCheck[] = [];
  const add = (name: string, ok: boolean | null, detail: string) => checks.push({ name, ok, detail });
  const note = git(repo, ['notes', `--ref=${NOTES_REF}`, 'show', commit]);
  if (note.status !== 0) {
    add('note', false, `no airlock attestation on ${commit.slice(0, 12)} (${NOTES_REF}); fetch notes with: git fetch origin ${NOTES_REF}:${NOTES_REF}`);
    return { ok: false, commit, checks };
  }
  let env: DsseEnvelope;
  let st: Statement;
  try {
    env = parseEnvelope(note.stdout.toString('utf8'), `${NOTES_REF} note on ${commit.slice(0, 12)}`);
    st = decodeStatement(env);
  } catch (err) {
    add('note', false, (err as Error).message);
    return { ok: false, commit, checks };
  }
  add('note', true, `DSSE envelope found in ${NOTES_REF}`);
  const p = st.predicate;
  if (!checkSignedStatement(env, st, add, opts.trustedKeys)) return { ok: false, commit, session: p?.session, checks, statement: st };
  const committed = digestEntriesFromCommit(repo, commit);
  const actual = changesDigest(committed);
  const subj = st.subject.find((s) => s.name === 'airlock-staged-changes')?.digest.sha256;
  const listed = Array.isArray(p.changes) ? p.changes : undefined;
  const listOk = listed !== undefined && changesDigest(listed) === subj;
  if (subj === actual) add('subject', true, `the commit's changes are exactly the attested staged changes (sha256:${actual.slice(0, 16)}…)`);
  else if (listOk) {
    // the commit may hold part of the session's changes (e.g. git-ignored files are not committed),
    // but every path it changes must be changed exactly as the session did
    const byPath = new Map(listed.map((e) => [e.path, canonicalJson(e)]));
    const foreign = committed.filter((e) => byPath.get(e.path) !== canonicalJson(e));
    if (foreign.length === 0 && committed.length > 0) add('subject', true, `the commit holds ${committed.length} of the ${listed.length} attested changes, each exactly as the session made it (not committed: ${listed.filter((e) => !committed.some((c) => c.path === e.path)).map((e) => e.path).slice(0, 5).join(', ')}${listed.length - committed.length > 5 ? ', …' : ''})`);
    else add('subject', false, `the commit changes ${foreign.length} path(s) differently from the session: ${foreign.slice(0, 5).map((e) => e.path).join(', ')}`);
  } else add('subject', false, `the commit's changes (sha256:${actual.slice(0, 16)}…) differ from the attested staged changes (sha256:${String(subj).slice(0, 16)}…)`);
  const msg = git(repo, ['log', '-1', '--format=%B', commit]).stdout.toString();
  const trailer = /^Airlock-Session:\s*(\S+)\s*$/m.exec(msg)?.[1];
  if (trailer !== undefined) add('trailer', trailer === p.session, trailer === p.session ? `Airlock-Session trailer names ${trailer}` : `Airlock-Session trailer names ${trailer}, the attestation ${p.session}`);
  const root = opts.sessionsRoot ?? sessionsRoot();
  const logFile = join(root, p.session, 'audit.jsonl');
  if (/^[0-9A-Za-z-]+$/.test(p.session) && existsSync(logFile)) {
    const v = verifyLogFile(logFile, { trustedKeys: opts.trustedKeys });
    const headOk = v.ok && v.head?.hash === p.log.head && v.head.seq === p.log.seq && v.publicKey === p.sessionKey.publicKey;
    add('log', headOk, headOk ? `session log verifies and ends at the attested head (seq ${p.log.seq})` : v.ok ? `the session log ends at ${v.head?.hash.slice(0, 16)}… (seq ${v.head?.seq}), the attestation names ${p.log.head.slice(0, 16)}… (seq ${p.log.seq})` : `the session log does not verify: ${v.problems[0]?.message}`);
  } else add('log', null, `session log not on this machine: head ${p.log.head.slice(0, 16)}… (seq ${p.log.seq}) not checked`);
  return { ok: checks.every((c) => c.ok !== false), commit, session: p.session, checks, statement: st };
}
