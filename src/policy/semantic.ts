/**
 * Checks that a schema-valid document also makes sense as a whole: combinations that would be
 * unsafe or can never work are errors, so a policy never quietly means less than it says.
 */
import type { PolicyDocument } from './schema.js';
import type { PolicyProblem } from './errors.js';
import { parseHostPattern, type HostPattern } from './host-pattern.js';
import { keyPath } from './errors.js';
import { BUILTIN_DENY_HOME } from './builtin-deny.js';

/** Variables airlock itself sets inside the sandbox (proxy and CA trust); a policy may not override them. */
export const MANAGED_ENV: ReadonlySet<string> = new Set([
  'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE', 'GIT_SSL_CAINFO', 'CURL_CA_BUNDLE',
]);

/** A problem with its key path as parts; `atKey` points the location at the key rather than its value. */
export type LocatedProblem = PolicyProblem & { pathParts: PropertyKey[]; atKey?: boolean };

export function semanticProblems(doc: PolicyDocument): LocatedProblem[] {
  const out: LocatedProblem[] = [];
  const add = (pathParts: PropertyKey[], message: string, hint?: string, atKey = false) => out.push({ path: keyPath(pathParts), pathParts, message, hint, atKey });

  const secretNames = Object.keys(doc.secrets ?? {});
  const seen = new Map<string, string>();
  for (const name of secretNames) {
    const upper = name.toUpperCase();
    if (seen.has(upper)) add(['secrets', name], `duplicate secret: "${name}" and "${seen.get(upper)}" differ only in case`, 'environment variable names must be unique', true);
    seen.set(upper, name);
    const s = doc.secrets![name]!;
    if (!s.from && !s.mint) add(['secrets', name], 'a secret needs a source: `from` (env:, file:, cmd:) or `mint`', 'e.g. from: env:GITHUB_TOKEN');
    if (s.from && s.mint) add(['secrets', name, 'mint'], 'give either `from` or `mint`, not both');
    if (s.renew && !s.from?.startsWith('cmd:')) add(['secrets', name, 'renew'], '`renew` re-runs a `cmd:` source; this secret has none', 'use from: cmd:... or drop renew');
    if (!hostCovered(s.inject.host, doc)) add(['secrets', name, 'inject', 'host'], `the secret is injected toward "${s.inject.host}" but network.allow does not allow that host`, 'add the host to network.allow, or the secret can never be used');
    if (s.inject.format !== undefined && s.inject.format !== 'basic' && !s.inject.format.includes('{}')) add(['secrets', name, 'inject', 'format'], 'format must contain `{}` (where the value goes) or be `basic`', 'e.g. format: "Bearer {}"');
    if (s.inject.format !== undefined && !s.inject.header) add(['secrets', name, 'inject', 'format'], '`format` needs `header`', 'e.g. header: Authorization');
  }
  (doc.env?.pass ?? []).forEach((v, i) => {
    if (seen.has(v.toUpperCase())) add(['env', 'pass', i], `unsafe: "${v}" is a secret; passing it would put the real value inside the sandbox`, 'remove it from env.pass: the sandbox gets a placeholder automatically');
  });
  for (const k of Object.keys(doc.env?.set ?? {})) {
    if (seen.has(k.toUpperCase())) add(['env', 'set', k], `duplicate secret: "${k}" is declared under secrets and set in env.set`, 'declare it once', true);
  }
  (doc.filesystem?.write ?? []).forEach((p, i) => {
    const t = p.replace(/\/+$/, '');
    if (t === '' || t === '/' || t === '~' || t === '$HOME') add(['filesystem', 'write', i], `unsafe: "${p}" makes the whole ${t === '/' || t === '' ? 'host filesystem' : 'home directory'} writable`, 'list the specific directories the agent must write');
  });
  for (const key of ['read', 'write'] as const) {
    (doc.filesystem?.[key] ?? []).forEach((p, i) => {
      const hit = BUILTIN_DENY_HOME.find((d) => p.replace(/\/+$/, '') === `~/${d}` || p.startsWith(`~/${d}/`));
      if (hit) add(['filesystem', key, i], `unsafe: "${p}" is on the built-in deny list (~/${hit}); it stays hidden from the agent`, 'use a secret with an injection rule instead of exposing credential files');
    });
  }
  for (const key of ['allow', 'deny'] as const) {
    (doc.network?.[key] ?? []).forEach((rule, i) => {
      const text = typeof rule === 'string' ? rule : rule.host;
      const p = parseHostPattern(text);
      const at = typeof rule === 'string' ? ['network', key, i] : ['network', key, i, 'host'];
      if (key === 'allow' && typeof p !== 'string' && p.kind === 'cidr' && p.prefix < (p.family === 4 ? 8 : 16)) {
        add(at, `unsafe: "${text}" allows ${p.prefix === 0 ? 'every address on the internet' : 'a huge address range'}`, 'list the hosts the agent needs; default-deny is the point');
      }
    });
  }
  for (const [i, v] of (doc.env?.pass ?? []).entries()) {
    if (MANAGED_ENV.has(v.toUpperCase())) add(['env', 'pass', i], `"${v}" is managed by airlock (proxy and CA settings); it cannot be passed from the host`, 'remove it; airlock sets it inside the sandbox');
  }
  for (const k of Object.keys(doc.env?.set ?? {})) {
    if (MANAGED_ENV.has(k.toUpperCase())) add(['env', 'set', k], `"${k}" is managed by airlock (proxy and CA settings); it cannot be set by the policy`, 'remove it; airlock sets it inside the sandbox', true);
  }
  for (const name of secretNames) {
    if (MANAGED_ENV.has(name.toUpperCase())) add(['secrets', name], `"${name}" is managed by airlock (proxy and CA settings) and cannot be a secret name`, 'choose another variable name', true);
  }
  (doc.commands?.allow ?? []).forEach((c, i) => {
    if (c.includes('/') && !c.startsWith('/')) add(['commands', 'allow', i], `"${c}": give a command name or an absolute path`);
  });
  return out;
}

function hostCovered(host: string, doc: PolicyDocument): boolean {
  const target = parseHostPattern(host);
  if (typeof target === 'string') return true; // reported by the schema already
  return (doc.network?.allow ?? []).some((rule) => {
    const p = parseHostPattern(typeof rule === 'string' ? rule : rule.host);
    return typeof p !== 'string' && covers(p, target);
  });
}

function covers(rule: HostPattern, target: HostPattern): boolean {
  const name = (h: HostPattern) => (h.kind === 'exact' ? h.host : h.kind === 'wildcard' ? `*.${h.suffix}` : h.address);
  if (rule.kind === 'wildcard') {
    if (target.kind === 'exact') return target.host.endsWith(`.${rule.suffix}`);
    if (target.kind === 'wildcard') return target.suffix === rule.suffix || target.suffix.endsWith(`.${rule.suffix}`);
    return false;
  }
  if (rule.kind === 'cidr') return target.kind === 'ip' || target.kind === 'cidr';
  return name(rule) === name(target);
}
