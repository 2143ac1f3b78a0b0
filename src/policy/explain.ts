/**
 * `airlock explain`: turns a compiled Policy into a plain-English account of what the agent may
 * do — isolation and limits, files it may read and write, programs it may run, hosts it may reach,
 * secrets it gets and where they may go, its environment, and the review pressure — plus the
 * same facts as JSON. It reports what the policy *means*, including its weak spots (warnings).
 *
 * Example:
 * ```ts
 * const e = explainPolicy(loadPolicyFile('airlock.yaml'));
 * process.stdout.write(renderExplanation(e));
 * ```
 */
import { homedir } from 'node:os';
import type { NetworkRule, Policy, SecretSource } from './compile.js';
import type { HostPattern } from './host-pattern.js';
import { BUILTIN_DENY_HOME } from './builtin-deny.js';
import { formatDuration, formatSize } from './units.js';

export interface ExplainedRule {
  host: string;
  /** `exact`, `wildcard` (subdomains), `ip` or `cidr`. */
  kind: HostPattern['kind'];
  ports: number[] | 'default (443, 80)';
  methods: string[] | 'any';
  paths: string[] | 'any';
}

export interface ExplainedSecret {
  name: string;
  /** `env:NAME`, `file:PATH`, `cmd:COMMAND` or `mint:github-app` — never a value. */
  source: string;
  injectHost: string;
  header?: string;
  format?: string;
  /** How the value is placed, in words. */
  how: string;
  ttl: string;
  renew: boolean;
}

export interface Explanation {
  file: string;
  digest: string;
  isolation: { backend: string; description: string; limits: Record<string, string> };
  filesystem: {
    workspace: { path: string; mode: 'staged' };
    read: string[];
    write: string[];
    deny: string[];
    builtinDeny: string[];
  };
  commands: { restricted: boolean; allow: string[]; deny: string[] };
  network: { allowed: boolean; allow: ExplainedRule[]; deny: ExplainedRule[]; upstreamCA?: string };
  secrets: ExplainedSecret[];
  env: { pass: string[]; set: Record<string, string> };
  review: { approvals: Record<string, number>; labels: Record<string, string[]>; registries: string[] };
  warnings: string[];
}

const BACKENDS: Record<string, string> = {
  gvisor: 'gVisor (runsc): the agent talks to a user-space kernel, not the host kernel; no network interface but loopback',
  bwrap: 'bubblewrap: Linux namespaces + a seccomp filter; shares the host kernel (weaker than gVisor); no network interface but loopback',
  microvm: 'a microVM (needs /dev/kvm): its own kernel',
  auto: 'the strongest backend available on the host (see `airlock doctor`): gVisor, else bubblewrap',
};

/** Programs that can run arbitrary code, making argv deny patterns advisory. */
const INTERPRETERS = new Set(['sh', 'bash', 'dash', 'zsh', 'fish', 'ksh', 'node', 'python', 'python3', 'perl', 'ruby', 'php', 'lua', 'deno', 'bun', 'env', 'xargs', 'find', 'awk', 'make', 'npx']);

function source(s: SecretSource): string {
  return s.kind === 'env' ? `env:${s.name}` : s.kind === 'file' ? `file:${tilde(s.path)}` : `cmd:${s.command}`;
}

function tilde(p: string): string {
  const home = homedir();
  return p === home ? '~' : p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p;
}

function rule(r: NetworkRule): ExplainedRule {
  return {
    host: r.pattern.port ? r.pattern.text.slice(0, r.pattern.text.lastIndexOf(':')) : r.pattern.text,
    kind: r.pattern.kind,
    ports: r.ports ?? 'default (443, 80)',
    methods: r.methods ?? 'any',
    paths: r.paths?.map((p) => p.glob) ?? 'any',
  };
}

export function explainPolicy(policy: Policy, cwd = process.cwd()): Explanation {
  const limits: Record<string, string> = {};
  const l = policy.runtime.limits;
  if (l.wallTimeMs !== undefined) limits.wallTime = formatDuration(l.wallTimeMs);
  if (l.memoryBytes !== undefined) limits.memory = formatSize(l.memoryBytes);
  if (l.pids !== undefined) limits.pids = String(l.pids);
  if (l.cpus !== undefined) limits.cpus = String(l.cpus);
  if (l.diskBytes !== undefined) limits.disk = formatSize(l.diskBytes);

  const warnings: string[] = [];
  const restricted = policy.document.commands?.allow !== undefined;
  if (!restricted) warnings.push('commands.allow is not set: every program visible inside the sandbox may run.');
  const interp = policy.commands.allow.filter((c) => INTERPRETERS.has(c.split('/').pop()!));
  if (interp.length && policy.commands.deny.length) warnings.push(`argv deny patterns guard against mistakes, not a determined agent: allowed interpreters (${interp.join(', ')}) can run the same programs indirectly. The network policy is the hard boundary.`);
  for (const r of policy.network.allow) {
    if (r.pattern.kind === 'wildcard') warnings.push(`network.allow "${r.pattern.text}" admits every subdomain of ${r.pattern.suffix}.`);
    if (r.pattern.kind === 'cidr') warnings.push(`network.allow "${r.pattern.text}" admits a whole address range, including private addresses in it.`);
  }
  for (const s of policy.secrets) {
    if (s.ttlMs === undefined) warnings.push(`secret ${s.name} has no ttl: its placeholder works for the whole session.`);
    if (s.inject.host.kind === 'wildcard') warnings.push(`secret ${s.name} may be sent to any subdomain of ${s.inject.host.kind === 'wildcard' ? s.inject.host.suffix : ''}.`);
  }
  if (policy.filesystem.write.length) warnings.push(`filesystem.write paths are changed directly on the host, not staged: ${policy.filesystem.write.map(tilde).join(', ')}.`);
  if (policy.runtime.isolation === 'bwrap') warnings.push('bwrap shares the host kernel: a kernel bug is an escape. Prefer gvisor where it runs.');
  if (l.wallTimeMs === undefined) warnings.push('no runtime.limits.wallTime: the session runs until the agent exits.');

  return {
    file: policy.source.file,
    digest: policy.source.digest,
    isolation: { backend: policy.runtime.isolation, description: BACKENDS[policy.runtime.isolation] ?? policy.runtime.isolation, limits },
    filesystem: {
      workspace: { path: policy.filesystem.workspace ?? cwd, mode: 'staged' },
      read: policy.filesystem.read,
      write: policy.filesystem.write,
      deny: policy.filesystem.deny,
      builtinDeny: BUILTIN_DENY_HOME.map((p) => `~/${p}`),
    },
    commands: { restricted, allow: policy.commands.allow, deny: policy.commands.deny.map((d) => d.text) },
    network: {
      allowed: policy.network.allow.length > 0,
      allow: policy.network.allow.map(rule),
      deny: policy.network.deny.map(rule),
      ...(policy.network.upstreamCA ? { upstreamCA: policy.network.upstreamCA } : {}),
    },
    secrets: policy.secrets.map((s) => ({
      name: s.name,
      source: s.mint ? `mint:${s.mint.provider} (app ${s.mint.appId}, installation ${s.mint.installationId})` : s.source ? source(s.source) : '(none)',
      injectHost: s.inject.host.text,
      ...(s.inject.header ? { header: s.inject.header } : {}),
      ...(s.inject.format ? { format: s.inject.format } : {}),
      how: s.inject.header
        ? s.inject.format === 'basic'
          ? `sets header ${s.inject.header} to HTTP basic auth`
          : `sets header ${s.inject.header}: ${(s.inject.format ?? '{}').replace('{}', '<value>')}`
        : 'replaces the placeholder wherever it appears in request headers',
      ttl: s.ttlMs !== undefined ? formatDuration(s.ttlMs) : 'session',
      renew: s.renew,
    })),
    env: { pass: policy.env.pass, set: policy.env.set },
    review: {
      approvals: { ...policy.review.approvals },
      labels: Object.fromEntries(Object.entries(policy.review.labels).filter(([, v]) => v.length)),
      registries: policy.review.registries.map((r) => r.text),
    },
    warnings,
  };
}

function list(items: string[], empty: string, indent = '  '): string[] {
  return items.length ? items.map((i) => `${indent}- ${i}`) : [`${indent}${empty}`];
}

function ruleText(r: ExplainedRule): string {
  const kind = r.kind === 'wildcard' ? ' (any subdomain)' : r.kind === 'cidr' ? ' (address range)' : '';
  const ports = r.ports === 'default (443, 80)' ? 'ports 443, 80' : `port${r.ports.length > 1 ? 's' : ''} ${r.ports.join(', ')}`;
  const methods = r.methods === 'any' ? 'any method' : r.methods.join('/');
  const paths = r.paths === 'any' ? 'any path' : `paths ${r.paths.join(', ')}`;
  return `${r.host}${kind} — ${ports}; ${methods}; ${paths}`;
}

/** The explanation as text for a terminal. */
export function renderExplanation(e: Explanation): string {
  const out: string[] = [];
  out.push(`Policy ${e.file} (sha256:${e.digest.slice(0, 16)}…)`);
  out.push('Anything not listed here is denied.', '');

  out.push(`Isolation: ${e.isolation.backend} — ${e.isolation.description}.`);
  const lim = Object.entries(e.isolation.limits).map(([k, v]) => `${k} ${v}`);
  out.push(`  Limits: ${lim.length ? lim.join(', ') : 'none declared'}.`, '');

  out.push('Files:');
  out.push(`  Workspace ${tilde(e.filesystem.workspace.path)} — read-write, staged: changes reach your tree only by \`airlock apply\`.`);
  out.push('  Also readable (read-only):', ...list(e.filesystem.read.map(tilde), 'nothing extra; the host system directories are read-only', '    '));
  out.push('  Writable directly on the host (not staged):', ...list(e.filesystem.write.map(tilde), 'nothing', '    '));
  out.push('  Hidden from the agent (policy):', ...list(e.filesystem.deny.map(tilde), 'nothing extra', '    '));
  out.push(`  Always hidden (built in): ${e.filesystem.builtinDeny.join(', ')}, and .env files outside the workspace.`, '');

  out.push('Programs:');
  if (e.commands.restricted) out.push(`  May run only: ${e.commands.allow.length ? e.commands.allow.join(', ') : '(nothing)'}.`);
  else out.push('  Any program visible inside the sandbox (commands.allow is not set).');
  if (e.commands.deny.length) out.push('  Refused command lines:', ...list(e.commands.deny, '', '    '));
  out.push('');

  out.push('Network (through the airlock proxy; there is no other way out):');
  if (!e.network.allowed) out.push('  No network access at all.');
  else out.push('  May reach:', ...list(e.network.allow.map(ruleText), '', '    '));
  if (e.network.deny.length) out.push('  Always refused:', ...list(e.network.deny.map(ruleText), '', '    '));
  if (e.network.allowed) out.push('  Private, loopback and link-local addresses (incl. 169.254.169.254) are refused unless named as literal IPs.');
  if (e.network.upstreamCA) out.push(`  Upstream TLS also trusts: ${e.network.upstreamCA}`);
  out.push('');

  out.push('Secrets (the agent sees a placeholder, never the value):');
  if (!e.secrets.length) out.push('  None.');
  for (const s of e.secrets) {
    out.push(`  - ${s.name} from ${s.source}: only toward ${s.injectHost}; the proxy ${s.how}. Valid for ${s.ttl === 'session' ? 'the whole session' : s.ttl}${s.renew ? ', renewed by re-running the command' : ''}.`);
  }
  out.push('');

  out.push('Environment: scrubbed to a small allowlist' + (e.env.pass.length ? `, plus from the host: ${e.env.pass.join(', ')}` : '') + '.');
  const set = Object.entries(e.env.set);
  if (set.length) out.push(`  Set: ${set.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  out.push('');

  out.push(`Review: approvals required — ${Object.entries(e.review.approvals).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  const labels = Object.entries(e.review.labels).map(([k, v]) => `${k}: ${v.join(', ')}`);
  if (labels.length) out.push(`  Labels: ${labels.join('; ')}.`);
  if (e.review.registries.length) out.push(`  Expected registries: ${e.review.registries.join(', ')}.`);

  if (e.warnings.length) out.push('', 'Warnings:', ...e.warnings.map((w) => `  ! ${w}`));
  return `${out.join('\n')}\n`;
}
