/**
 * Session evidence: what the agent that produced the PR actually did, from airlock's own record.
 *
 * Sources: `--sessions DIR` (one session directory, or a directory of them), or `auto`: commits
 * in the scored range whose message carries an `Airlock-Session: <id>` trailer, their
 * attestation in git notes (`refs/notes/airlock`, a DSSE envelope) and the session directory under
 * $AIRLOCK_HOME/sessions/<id>. A commit that claims a session without a valid attestation is
 * itself a finding. From each session's audit log: denials, secret exfiltration attempts, hosts
 * contacted outside the registries, risky commands that ran, files touched that are not in the
 * diff, and how broad the policy was. Verification is pluggable (`SessionVerifiers`); the default
 * uses the audit module's `verifyLogFile` and checks DSSE signatures with the session key.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import * as audit from '../audit/index.js';
import { BUILTIN_DENY_HOME, DOTENV_PATTERN, loadPolicyFile, type HostPattern, type Policy } from '../policy/index.js';
import { sessionsRoot } from '../session/store.js';
import { mk } from './rules/common.js';
import type { Finding, SessionSummary } from './types.js';

export interface LogCheck {
  /** true = verified, false = verification failed, null = could not be checked. */
  ok: boolean | null;
  problems: string[];
  events: Record<string, unknown>[];
  publicKey?: string;
  head?: string;
}

export interface AttestationCheck {
  ok: boolean;
  reason: string;
  statement?: Record<string, unknown>;
}

export interface SessionVerifiers {
  verifyLog(file: string): LogCheck;
  verifyAttestation(envelope: unknown, ctx: { commit?: string; publicKey?: string; head?: string }): AttestationCheck;
}

export interface SessionEvidenceOptions {
  /** 'auto' or a directory. */
  sessions: string;
  /** Repository for `auto` (trailers, notes). */
  repo?: string;
  /** Commits of the scored range (for `auto`). */
  commits?: string[];
  /** Paths in the diff (new and old names). */
  diffPaths: Set<string>;
  policy?: Policy;
  verifiers?: Partial<SessionVerifiers>;
}

const WELL_KNOWN_REGISTRIES = /^(registry\.npmjs\.org|registry\.yarnpkg\.com|pypi\.org|files\.pythonhosted\.org|crates\.io|static\.crates\.io|index\.crates\.io|proxy\.golang\.org|sum\.golang\.org|rubygems\.org|repo\.maven\.apache\.org|repo1\.maven\.org|api\.nuget\.org|github\.com|api\.github\.com|codeload\.github\.com|objects\.githubusercontent\.com|raw\.githubusercontent\.com|api\.anthropic\.com|api\.openai\.com|deb\.debian\.org|security\.debian\.org|archive\.ubuntu\.com|registry-1\.docker\.io|auth\.docker\.io|production\.cloudflare\.docker\.com)$/;
const RISKY_CMD: [RegExp, string][] = [
  [/\b(curl|wget)\b[^\n]*\|\s*(sudo\s+)?((ba|z|da)?sh|python3?|node|perl)\b/, 'download piped to an interpreter'],
  [/\brm\s+-[a-zA-Z]*[rR][a-zA-Z]*\s+(-\S+\s+)*(\/|~|\$HOME|\/\*)(\s|$)|--no-preserve-root/, 'recursive delete of a root or home directory'],
  [/\bchmod\s+([ugoa]*\+[rwx]*s|0?[2467][0-7]{3})\b/, 'setuid/setgid chmod'],
  [/\bgit\s+push\b[^\n]*(\s--force\b|\s-f\b|\s\+\S+)/, 'force push'],
  [/\bbase64\s+(-d|--decode)\b[^\n]*\|\s*(ba)?sh/, 'decoded payload executed'],
  [/\b(nc|ncat|netcat)\b[^\n]*\s-e\s|\/dev\/tcp\//, 'reverse shell'],
  [/--dangerously-skip-permissions|--yolo\b|--trust-all-tools/, 'AI CLI with permission checks disabled'],
  [/\bgit\s+config\b[^\n]*core\.hooksPath|\bnpm\s+publish\b|\bgh\s+(secret|auth\s+token)\b/, 'publishing or credential command'],
];

// Credential stores the sandbox hides (policy/builtin-deny.ts) named as a path segment. Project
// config files that usually hold no secret (.npmrc, .yarnrc*) count only when home-anchored.
const PROJECT_CONFIG = new Set(['.npmrc', '.yarnrc', '.yarnrc.yml']);
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const CREDENTIAL_SEGMENT = new RegExp(`(^|/)(${BUILTIN_DENY_HOME.filter((p) => !PROJECT_CONFIG.has(p)).map(escapeRe).join('|')})(/|$)`);
const HOME_CONFIG = new RegExp(`^(~|/home/[^/]+|/root)/(${[...PROJECT_CONFIG].map(escapeRe).join('|')})$`);
const DOTENV_TEMPLATE = /^\.env\.(example|sample|template|dist|defaults)$/;

/**
 * The credential file a command-line word names, if any: `.env` files (not their templates),
 * `~/.aws/credentials`, `/home/u/.ssh/id_ed25519`, ... Words are split on shell punctuation, so
 * `sh -c "cat .env"` counts as well as `cat .env`.
 */
export function credentialPathIn(argv: readonly string[]): string | undefined {
  for (const arg of argv) {
    for (const word of arg.split(/[\s'"`;|&<>()=]+/)) {
      if (!word || word.length > 4096) continue;
      const base = word.slice(word.lastIndexOf('/') + 1);
      if (DOTENV_PATTERN.test(base) && !DOTENV_TEMPLATE.test(base)) return word;
      if (CREDENTIAL_SEGMENT.test(word) || HOME_CONFIG.test(word)) return word;
    }
  }
  return undefined;
}

export function defaultVerifiers(): SessionVerifiers {
  return {
    verifyLog(file) {
      const auditAny = audit as unknown as Record<string, unknown>;
      if (typeof auditAny.verifyLogFile === 'function') {
        const r = audit.verifyLogFile(file);
        return { ok: r.ok, problems: r.problems.map((p) => p.message), events: r.events as unknown as Record<string, unknown>[], publicKey: r.publicKey, head: r.head?.hash };
      }
      return { ok: null, problems: ['audit verifier unavailable'], events: readEvents(file) };
    },
    verifyAttestation(envelope, ctx) {
      const auditAny = audit as unknown as Record<string, unknown>;
      if (typeof auditAny.verifyAttestation === 'function') {
        try {
          const r = (auditAny.verifyAttestation as (e: unknown, o: unknown) => unknown)(envelope, ctx);
          if (typeof r === 'boolean') return { ok: r, reason: r ? 'verified by the audit module' : 'rejected by the audit module' };
          if (r && typeof r === 'object' && 'ok' in r) {
            const rr = r as { ok: boolean; problems?: { message?: string }[]; reason?: string; statement?: Record<string, unknown> };
            return { ok: !!rr.ok, reason: rr.reason ?? rr.problems?.map((p) => p.message ?? String(p)).join('; ') ?? (rr.ok ? 'verified' : 'rejected'), statement: rr.statement };
          }
        } catch (err) {
          return { ok: false, reason: `audit verifier: ${(err as Error).message}` };
        }
      }
      return verifyDsse(envelope, ctx);
    },
  };
}

/** DSSE: signature over PAE("DSSEv1", payloadType, payload) by the session's Ed25519 key. */
export function verifyDsse(envelope: unknown, ctx: { commit?: string; publicKey?: string; head?: string }): AttestationCheck {
  if (!envelope || typeof envelope !== 'object') return { ok: false, reason: 'the attestation is not a JSON object (DSSE envelope expected)' };
  const e = envelope as { payloadType?: unknown; payload?: unknown; signatures?: unknown };
  if (typeof e.payloadType !== 'string' || typeof e.payload !== 'string' || !Array.isArray(e.signatures) || e.signatures.length === 0) {
    return { ok: false, reason: 'not a DSSE envelope (payloadType, payload, signatures)' };
  }
  const body = Buffer.from(e.payload, 'base64');
  let statement: Record<string, unknown>;
  try {
    statement = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'the attestation payload is not JSON' };
  }
  const keyB64 = ctx.publicKey ?? findKey(statement);
  if (!keyB64) return { ok: false, reason: 'no session public key to check the attestation signature against', statement };
  const type = Buffer.from(e.payloadType, 'utf8');
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
  let key;
  try {
    key = createPublicKey({ key: Buffer.from(keyB64, 'base64'), format: 'der', type: 'spki' });
  } catch {
    return { ok: false, reason: 'the session public key is not a valid SPKI key', statement };
  }
  const good = (e.signatures as { sig?: unknown }[]).some((s) => {
    try {
      return typeof s.sig === 'string' && cryptoVerify(null, pae, key, Buffer.from(s.sig, 'base64'));
    } catch {
      return false;
    }
  });
  if (!good) return { ok: false, reason: 'the attestation signature does not verify with the session key', statement };
  if (ctx.head) {
    const text = JSON.stringify(statement);
    if (!text.includes(ctx.head)) return { ok: false, reason: 'the attestation does not name the final hash of the session log', statement };
  }
  return { ok: true, reason: 'signature verified', statement };
}

function findKey(statement: Record<string, unknown>): string | undefined {
  const pred = statement.predicate as Record<string, unknown> | undefined;
  const k = pred?.publicKey ?? (pred?.session as Record<string, unknown> | undefined)?.publicKey;
  return typeof k === 'string' ? k : undefined;
}

function readEvents(file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* counted as unverifiable */
    }
  }
  return out;
}

function git(repo: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  return { ok: r.status === 0, out: r.stdout ?? '' };
}

interface Located {
  id: string;
  dir: string | null;
  source: string;
  commits: string[];
}

/** Collects session findings and summaries. Never throws for bad evidence: bad evidence is a finding. */
export function collectSessionEvidence(opts: SessionEvidenceOptions): { findings: Finding[]; sessions: SessionSummary[] } {
  const v = { ...defaultVerifiers(), ...opts.verifiers };
  const findings: Finding[] = [];
  const sessions: SessionSummary[] = [];
  const located: Located[] = [];

  if (opts.sessions !== 'auto') {
    const dir = opts.sessions;
    if (existsSync(join(dir, 'audit.jsonl')) || existsSync(join(dir, 'session.json'))) located.push({ id: sessionIdOf(dir), dir, source: dir, commits: [] });
    else if (existsSync(dir) && statSync(dir).isDirectory()) {
      for (const name of readdirSync(dir).sort()) {
        const d = join(dir, name);
        if (existsSync(join(d, 'audit.jsonl')) || existsSync(join(d, 'session.json'))) located.push({ id: name, dir: d, source: dir, commits: [] });
      }
    }
  }

  // commits that claim a session (auto, or a directory plus a range)
  if (opts.repo && opts.commits?.length) {
    const byId = new Map<string, string[]>();
    for (const c of opts.commits) {
      const body = git(opts.repo, ['log', '-1', '--format=%B', c]).out;
      for (const m of body.matchAll(/^Airlock-Session:\s*([0-9A-Za-z-]+)\s*$/gm)) {
        const id = m[1]!;
        byId.set(id, [...(byId.get(id) ?? []), c]);
        const note = git(opts.repo, ['notes', '--ref=airlock', 'show', c]);
        const known = located.find((l) => l.id === id);
        const dir = known?.dir ?? (opts.sessions === 'auto' && existsSync(join(sessionsRoot(), id)) ? join(sessionsRoot(), id) : null);
        const log = dir && existsSync(join(dir, 'audit.jsonl')) ? v.verifyLog(join(dir, 'audit.jsonl')) : null;
        if (!note.ok || !note.out.trim()) {
          findings.push(mk('.git', 'missing-attestation', 'session', 'high', 0, `commit ${c.slice(0, 12)} Airlock-Session: ${id}`, `commit ${c.slice(0, 12)} claims it was produced in airlock session ${id}, but carries no attestation (git notes refs/notes/airlock): the claim cannot be checked`, 'fetch the notes (`git fetch origin refs/notes/airlock:refs/notes/airlock`) or re-apply the session with `airlock apply --commit`'));
        } else {
          let env: unknown;
          try {
            env = JSON.parse(note.out);
          } catch {
            env = null;
          }
          const chk = v.verifyAttestation(env, { commit: c, publicKey: log?.publicKey, head: log?.head });
          if (!chk.ok) {
            findings.push(mk('.git', 'invalid-attestation', 'session', 'critical', 0, `commit ${c.slice(0, 12)}: ${chk.reason}`, `the attestation of commit ${c.slice(0, 12)} (session ${id}) does not verify: ${chk.reason}. Its provenance claim is forged or the evidence was altered`, 'treat the commit as unattested: review it fully, and find out who produced it'));
          }
        }
        if (!known) located.push({ id, dir, source: dir ? 'trailer + AIRLOCK_HOME' : 'trailer', commits: [] });
      }
    }
    for (const l of located) l.commits = byId.get(l.id) ?? l.commits;
  }

  for (const s of located) {
    if (!s.dir) {
      sessions.push({ id: s.id, source: s.source, verified: null, commits: s.commits, events: 0, denials: 0 });
      continue;
    }
    const logFile = join(s.dir, 'audit.jsonl');
    const log: LogCheck = existsSync(logFile) ? v.verifyLog(logFile) : { ok: false, problems: ['no audit.jsonl in the session directory'], events: [] };
    const f = analyzeSession(s.id, s.dir, log, opts);
    findings.push(...f.findings);
    sessions.push({ id: s.id, source: s.source, verified: log.ok, commits: s.commits, events: log.events.length, denials: f.denials });
  }
  return { findings, sessions };
}

function sessionIdOf(dir: string): string {
  try {
    const meta = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as { id?: string };
    if (meta.id) return meta.id;
  } catch {
    /* fall back to the directory name */
  }
  return dir.replace(/\/+$/, '').split('/').pop() ?? dir;
}

function analyzeSession(id: string, dir: string, log: LogCheck, opts: SessionEvidenceOptions): { findings: Finding[]; denials: number } {
  const findings: Finding[] = [];
  const where = `airlock-session:${id}`;
  let meta: Record<string, unknown> = {};
  try {
    meta = JSON.parse(readFileSync(join(dir, 'session.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    /* optional */
  }
  if (log.ok === false) {
    findings.push(mk(where, 'log-invalid', 'session', 'high', 0, log.problems.slice(0, 2).join('; '), 'the session\'s audit log does not verify (edited, truncated, or unsigned): the record of what the agent did cannot be trusted', 'treat the PR as produced without evidence; inspect `airlock log verify` output'));
  }
  const regs = opts.policy?.review.registries ?? [];
  const registry = (h: string) => WELL_KNOWN_REGISTRIES.test(h) || regs.some((r) => hostMatch(r, h));
  const denials = new Map<string, { n: number; first: string }>();
  const hosts = new Map<string, number>();
  const credentialCmds = new Map<string, string>();
  const touched = new Set<string>();
  const workspace = typeof meta.workspace === 'string' ? meta.workspace : undefined;
  let denialCount = 0;
  for (const e of log.events) {
    const kind = String(e.kind ?? '');
    const action = String(e.action ?? '');
    const decision = String(e.decision ?? '');
    const subject = String(e.subject ?? '');
    const detail = (e.detail && typeof e.detail === 'object' ? e.detail : {}) as Record<string, unknown>;
    if (kind === 'secret' && (action === 'exfiltration' || action === 'refuse')) {
      findings.push(mk(where, 'exfiltration-attempt', 'session', 'critical', 0, `secret ${subject} → ${String(detail.host ?? detail.target ?? '?')} (${action})`, `during the session a secret placeholder was sent to a host it is not meant for (${String(detail.reason ?? action)}): the agent (or code it ran) tried to exfiltrate a credential`, 'review every change of this session as hostile; rotate the secret'));
      continue;
    }
    if (decision === 'deny') {
      denialCount++;
      const key = `${kind}:${action}`;
      const d = denials.get(key) ?? { n: 0, first: subject };
      d.n++;
      denials.set(key, d);
    }
    // A connect seen inside the sandbox (gVisor monitor, strace) stays inside: its only way out is
    // the proxy, whose own events name the hosts really contacted.
    const insideSandbox = detail.source === 'gvisor' || detail.source === 'strace' || detail.source === 'ebpf' || subject.startsWith('unix:');
    if (kind === 'network' && decision === 'allow' && !insideSandbox) {
      const host = subject.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
      if (host && !registry(host)) hosts.set(host, (hosts.get(host) ?? 0) + 1);
    }
    if (kind === 'process' && action === 'exec') {
      const words = Array.isArray(detail.argv) ? (detail.argv as unknown[]).map(String) : [subject];
      const cred = credentialPathIn(words.slice(1));
      if (cred && !credentialCmds.has(cred)) credentialCmds.set(cred, words.join(' ').slice(0, 200));
      const argv = words.join(' ');
      for (const [re, what] of RISKY_CMD) {
        if (re.test(argv)) {
          findings.push(mk(where, 'risky-command', 'session', decision === 'deny' ? 'medium' : 'high', 0, argv, `the agent ran a risky command during the session (${what})${decision === 'deny' ? ', which was refused' : ''}`, 'check what the command changed; tighten commands.allow/deny in the policy'));
          break;
        }
      }
    }
    if (kind === 'file' && decision !== 'deny' && /create|write|delete|rename|chmod|open/.test(action)) {
      const flags = String(detail.flags ?? '');
      if (action === 'open' && !/WR|CREAT|TRUNC|APPEND/i.test(flags)) continue;
      touched.add(subject);
    }
  }
  for (const [key, d] of denials) {
    const [kind] = key.split(':');
    findings.push(mk(where, 'denied', 'session', kind === 'network' || kind === 'secret' ? 'medium' : 'low', 0, `${d.n}× ${key}, e.g. ${d.first}`, `the policy refused ${d.n} ${key} action(s) during the session: the agent tried to do more than it was allowed`, 'look at what it tried (`airlock log show`) before trusting the result'));
  }
  if (credentialCmds.size) {
    const list = [...credentialCmds.keys()].slice(0, 6).join(', ');
    const cmds = [...credentialCmds.values()].slice(0, 3).join('; ');
    findings.push(mk(where, 'credential-access', 'session', 'high', 0, cmds, `during the session the agent ran commands that reach for credential files (${list}). Coding tasks do not need them: something it read (an issue, a README, a dependency) may have told it to look for secrets. The sandbox's deny list hides such files, so check what it got and treat the rest of the session as following untrusted instructions`, 'find the instructions that led to it (`airlock log show`), and keep credentials out of the workspace and covered by filesystem.deny'));
  }
  if (hosts.size) {
    const list = [...hosts.keys()].slice(0, 8).join(', ');
    findings.push(mk(where, 'unexpected-hosts', 'session', 'medium', 0, list, `the session contacted ${hosts.size} host(s) that are not package registries (${list}); code or data may have come from or gone to them`, 'list expected hosts in review.registries, or find out why they were contacted'));
  }
  // A directory created to hold a file of the diff (`.vscode` for `.vscode/settings.json`) is part of that change.
  const diffDirs = new Set<string>();
  for (const p of opts.diffPaths) for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) diffDirs.add(p.slice(0, i));
  // A set: the same file can be both a live gVisor open (absolute) and a workspace event (relative).
  const outsideSet = new Set<string>();
  for (const p of touched) {
    let rel = p;
    if (isAbsolute(p)) {
      if (workspace && (p === workspace || p.startsWith(`${workspace}/`))) rel = relative(workspace, p);
      else if (/^\/(tmp|proc|dev|sys|run|var\/tmp)\//.test(p)) continue;
      else {
        outsideSet.add(p);
        continue;
      }
    }
    if (/^(\.git\/(objects|index|logs|refs|HEAD|ORIG_HEAD|FETCH_HEAD|COMMIT_EDITMSG)|node_modules\/|\.cache\/|dist\/|build\/|target\/|__pycache__\/)/.test(rel)) continue;
    if (!opts.diffPaths.has(rel) && !diffDirs.has(rel)) outsideSet.add(rel);
  }
  if (outsideSet.size) {
    const outside = [...outsideSet];
    const hooks = outside.some((p) => /\.git\/(hooks|config)|\.ssh|\.aws|\.bashrc|\.profile|\.npmrc|\.gitconfig/.test(p));
    findings.push(mk(where, 'untracked-changes', 'session', hooks ? 'high' : 'medium', 0, outside.slice(0, 6).join(', '), `the session changed ${outside.length} file(s) that are not in this diff${hooks ? ', including git hooks/config or credential files' : ''}: effects that reviewers of the PR will not see`, 'inspect those files on the machine that ran the session'));
  }
  // policy breadth
  const policyFile = typeof meta.policyFile === 'string' ? meta.policyFile : undefined;
  if (policyFile && existsSync(policyFile)) {
    try {
      const p = loadPolicyFile(policyFile);
      const broad: string[] = [];
      if (p.network.allow.some((r) => r.pattern.kind === 'wildcard' && r.pattern.suffix.split('.').length <= 2 || r.pattern.kind === 'cidr')) broad.push('wildcard network allow');
      if (p.network.allow.length > 20) broad.push(`${p.network.allow.length} network hosts`);
      if (p.commands.allow.length === 0 || p.commands.allow.some((c) => /^(\*|sh|bash|zsh|python3?|node|perl|ruby|env)$/.test(c))) broad.push('unrestricted commands (a shell or interpreter is allowed)');
      if (p.secrets.length) broad.push(`${p.secrets.length} secret(s) available`);
      if (broad.length) findings.push(mk(where, 'policy-breadth', 'session', broad.length >= 3 ? 'medium' : 'low', 0, broad.join('; '), `the agent ran under a broad policy (${broad.join('; ')}): the containment limited less`, 'narrow the policy: exact hosts, explicit commands, secrets only where needed'));
    } catch {
      /* a policy that no longer loads says nothing about breadth */
    }
  }
  return { findings, denials: denialCount };
}

function hostMatch(p: HostPattern, h: string): boolean {
  if (p.kind === 'exact') return p.host === h;
  if (p.kind === 'wildcard') return h.endsWith(`.${p.suffix}`);
  if (p.kind === 'ip') return p.address === h;
  return false;
}
