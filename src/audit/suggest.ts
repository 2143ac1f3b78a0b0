/**
 * Least privilege from evidence: `airlock policy suggest SESSION...` reads what the sessions
 * actually did (their audit events) and writes the tightest policy that covers it:
 *
 * - `runtime.isolation`: the backend used (the strongest, if sessions differ);
 * - `commands.allow`: every executable that ran (by name when it is on a standard bin dir,
 *   otherwise by absolute path), argv deny patterns kept from the original policy;
 * - `network.allow`: every host reached through the proxy with the methods used (and the port
 *   when not 80/443); monitor-level socket connects (`detail.source: gvisor`) are not egress;
 * - `secrets`: the secrets used, with their definitions copied from the original policy;
 * - `filesystem`: the workspace, and the original `write` entries that were written to.
 *
 * It also lists what the original policy granted but no session used (commands, hosts, secrets,
 * write paths), and what was denied (not added: a denial is not a request for permission).
 * Reads are not tracked, so `filesystem.read` entries are kept as they were and flagged as such.
 */
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { stringify } from 'yaml';
import type { AuditEvent } from './types.js';
import type { HostPattern, Policy } from '../policy/index.js';

export interface SuggestInput {
  sessions: { id: string; events: AuditEvent[] }[];
  /** The policy the sessions ran under (when it can still be loaded). */
  original?: Policy;
}

export interface Suggestion {
  document: Record<string, unknown>;
  unused: { section: string; entry: string }[];
  denied: { kind: string; action: string; subject: string; reason?: string }[];
  notes: string[];
}

const BIN_DIRS = new Set(['/bin', '/usr/bin', '/usr/local/bin', '/sbin', '/usr/sbin', '/usr/local/sbin']);
const STRENGTH = ['none', 'bwrap', 'gvisor', 'microvm'];

export function suggestPolicy(input: SuggestInput): Suggestion {
  const execs = new Set<string>();
  const hosts = new Map<string, { host: string; port?: number; methods: Set<string> }>();
  const secrets = new Set<string>();
  const written = new Set<string>();
  const denied: Suggestion['denied'] = [];
  const notes: string[] = [];
  let backend: string | undefined;
  let workspace: string | undefined;

  for (const s of input.sessions) {
    for (const e of s.events) {
      const d = e.detail;
      if (e.kind === 'session' && e.action === 'start') {
        const b = typeof d.backend === 'string' ? d.backend : undefined;
        if (b && (backend === undefined || STRENGTH.indexOf(b) > STRENGTH.indexOf(backend))) backend = b;
        if (typeof d.workspace === 'string') workspace ??= d.workspace;
        continue;
      }
      if (e.decision === 'deny') {
        if (denied.length < 200) denied.push({ kind: e.kind, action: e.action, subject: e.subject, reason: typeof d.reason === 'string' ? d.reason : undefined });
        continue;
      }
      if (e.kind === 'process' && e.action === 'exec') execs.add(e.subject);
      else if (e.kind === 'network' && d.source !== 'gvisor' && d.source !== 'monitor') {
        const m = /^\[?(.*?)\]?(?::(\d+))?$/.exec(e.subject)!;
        const host = m[1]!;
        const port = m[2] ? Number(m[2]) : undefined;
        const key = `${host}:${port && port !== 443 && port !== 80 ? port : ''}`;
        const h = hosts.get(key) ?? { host, port: port && port !== 443 && port !== 80 ? port : undefined, methods: new Set<string>() };
        if (typeof d.method === 'string' && d.method.toUpperCase() !== 'CONNECT') h.methods.add(d.method.toUpperCase());
        hosts.set(key, h);
      } else if (e.kind === 'secret' && e.action === 'use') secrets.add(e.subject);
      else if (e.kind === 'file' && e.action !== 'open' && d.source === 'workspace') written.add(e.subject);
      else if (e.kind === 'file' && e.action === 'open' && e.subject.startsWith('/')) written.add(e.subject);
    }
  }

  const orig = input.original;
  // `/.airlock/real/git` is the real program behind a commands.deny shim: it is `git`
  const commandName = (p: string) => (p.startsWith('/.airlock/') || (p.startsWith('/') && BIN_DIRS.has(dirname(p))) ? basename(p) : p);
  const allowCommands = [...new Set([...execs].map(commandName))].sort();
  const networkAllow = [...hosts.values()]
    .sort((a, b) => (a.host < b.host ? -1 : 1))
    .map((h) => {
      const hostText = h.port ? `${h.host.includes(':') ? `[${h.host}]` : h.host}:${h.port}` : h.host;
      return h.methods.size ? { host: hostText, methods: [...h.methods].sort() } : hostText;
    });

  const doc: Record<string, unknown> = { version: 1 };
  doc.runtime = { isolation: backend && backend !== 'none' ? backend : 'gvisor', ...(orig?.document.runtime?.limits ? { limits: orig.document.runtime.limits } : {}) };
  const fs: Record<string, unknown> = {};
  if (orig?.document.filesystem?.workspace !== undefined) fs.workspace = orig.document.filesystem.workspace;
  if (orig?.document.filesystem?.read?.length) {
    fs.read = orig.document.filesystem.read;
    notes.push('filesystem.read kept as granted: reads are not recorded, so their use cannot be checked');
  }
  const usedWrites: string[] = [];
  if (orig) {
    orig.filesystem.write.forEach((abs, i) => {
      const used = [...written].some((w) => w === abs || w.startsWith(`${abs}/`));
      if (used) usedWrites.push(orig.document.filesystem!.write![i]!);
    });
  }
  if (usedWrites.length) fs.write = usedWrites;
  if (orig?.document.filesystem?.deny?.length) fs.deny = orig.document.filesystem.deny;
  if (Object.keys(fs).length) doc.filesystem = fs;
  doc.commands = { allow: allowCommands, ...(orig?.document.commands?.deny?.length ? { deny: orig.document.commands.deny } : {}) };
  if (networkAllow.length) doc.network = { allow: networkAllow, ...(orig?.document.network?.deny?.length ? { deny: orig.document.network.deny } : {}) };
  const secretDefs: Record<string, unknown> = {};
  for (const name of [...secrets].sort()) {
    const def = orig?.document.secrets?.[name];
    if (def) secretDefs[name] = def;
    else notes.push(`secret ${name} was used but its definition is not in the original policy: add it by hand`);
  }
  if (Object.keys(secretDefs).length) doc.secrets = secretDefs;
  if (orig?.document.env) doc.env = orig.document.env;
  if (orig?.document.review) doc.review = orig.document.review;

  const unused: Suggestion['unused'] = [];
  if (orig) {
    const ran = new Set([...execs].flatMap((p) => [p, basename(p)]));
    for (const c of orig.document.commands?.allow ?? []) if (!ran.has(c) && !ran.has(basename(c))) unused.push({ section: 'commands.allow', entry: c });
    for (const r of orig.network.allow) {
      const hit = [...hosts.values()].some((h) => hostMatches(r.pattern, h.host));
      if (!hit) unused.push({ section: 'network.allow', entry: r.text });
    }
    for (const s of orig.secrets) if (!secrets.has(s.name)) unused.push({ section: 'secrets', entry: s.name });
    orig.filesystem.write.forEach((abs, i) => {
      if (!usedWrites.includes(orig.document.filesystem!.write![i]!)) unused.push({ section: 'filesystem.write', entry: orig.document.filesystem!.write![i]! + (existsSync(abs) ? '' : ' (does not exist)') });
    });
  } else notes.push('the original policy could not be loaded: granted-but-unused permissions are not listed');
  return { document: doc, unused, denied, notes };
}

/** Does a compiled host pattern cover `host` (ports aside)? */
function hostMatches(p: HostPattern, host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (p.kind === 'exact') return p.host === h;
  if (p.kind === 'wildcard') return h.endsWith(`.${p.suffix.replace(/^\*?\./, '')}`);
  if (p.kind === 'ip') return p.address === h;
  return false; // CIDR: matched by address, which the proxy logs in detail.ip
}

/** The suggestion as YAML, with the unused/denied lists as leading comments (still valid YAML). */
export function formatSuggestion(s: Suggestion, sessionIds: string[]): string {
  const head: string[] = [`# airlock policy suggest — the tightest policy covering session(s): ${sessionIds.join(', ')}`];
  if (s.unused.length) {
    head.push('#', '# granted but never used (removed):');
    for (const u of s.unused) head.push(`#   ${u.section}: ${u.entry}`);
  } else head.push('#', '# granted but never used: nothing');
  if (s.denied.length) {
    head.push('#', '# denied during the sessions (not added):');
    for (const d of s.denied.slice(0, 30)) head.push(`#   ${d.kind} ${d.action} ${d.subject}${d.reason ? ` — ${d.reason}` : ''}`);
    if (s.denied.length > 30) head.push(`#   … and ${s.denied.length - 30} more`);
  }
  for (const n of s.notes) head.push(`# note: ${n}`);
  return `${head.join('\n')}\n${stringify(s.document, { lineWidth: 0 })}`;
}
