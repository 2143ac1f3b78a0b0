/**
 * airlock policies (`--policy FILE`, or `airlock.yaml` in the repository): how broad is what they
 * grant? Interpreters and privilege tools in `commands.allow`, host wildcards that cover storage
 * or paste services, credential paths made readable, writable paths outside the workspace, secret
 * variables passed raw through `env.pass`, secrets without a TTL. An invalid policy is a finding
 * with its located errors, never a crash.
 */
import { join, resolve } from 'node:path';
import { homedir } from 'node:os';
import type { AuditContext } from './context.js';
import { loadPolicyText, PolicyError, type Policy } from '../policy/index.js';
import { cat, makeEntry } from './agent-entry.js';
import { isSecretName } from './secrets.js';
import type { CategoryAccess } from './types.js';

const INTERPRETERS = /^(sh|bash|zsh|dash|fish|python[0-9.]*|node|deno|bun|perl|ruby|php|lua|env|xargs|find|awk|make)$/;
const PRIVILEGED = /^(sudo|su|doas|docker|podman|nsenter|chroot|mount|unshare|kubectl|ssh|scp|nc|ncat|socat|curl|wget)$/;
const BROAD_SUFFIX = /(^|\.)(amazonaws\.com|cloudfront\.net|googleapis\.com|googleusercontent\.com|githubusercontent\.com|blob\.core\.windows\.net|azurewebsites\.net|herokuapp\.com|vercel\.app|netlify\.app|ngrok\.io|ngrok-free\.app|workers\.dev|pages\.dev|r2\.dev|trycloudflare\.com)$/;
const EXFIL_HOSTS = /^(pastebin\.com|paste\.ee|hastebin\.com|transfer\.sh|webhook\.site|requestbin\.com|pipedream\.net|file\.io|0x0\.st|gist\.githubusercontent\.com|discord\.com|hooks\.slack\.com)$/;
const CRED_DIRS = /(^|\/)\.(ssh|aws|gnupg|kube|docker|netrc|npmrc|git-credentials|config\/gh)(\/|$)/;

export function scanAirlockPolicies(ctx: AuditContext, explicit?: string): void {
  const candidates = explicit ? [resolve(explicit)] : ['airlock.yaml', 'airlock.yml', '.airlock.yaml', '.airlock/airlock.yaml'].map((n) => join(ctx.repo, n));
  for (const file of candidates) {
    const r = ctx.read(file);
    if (!r.ok) {
      if (explicit) ctx.warn(`${file}: the policy given with --policy could not be read (${r.reason})`);
      continue;
    }
    let policy: Policy;
    try {
      policy = loadPolicyText(r.text, file, ctx.display(file));
    } catch (err) {
      if (err instanceof PolicyError) {
        const probs = (err as PolicyError & { problems?: { path: string; message: string; line?: number }[] }).problems ?? [];
        const first = probs[0];
        ctx.malformed(file, 'airlock policy', probs.length ? probs.slice(0, 3).map((p) => `${p.line ? `line ${p.line}: ` : ''}${p.path ? `${p.path}: ` : ''}${p.message}`).join('; ') : err.message.split('\n')[0]!, first?.line);
      } else ctx.malformed(file, 'airlock policy', (err as Error).message.split('\n')[0]!);
      continue;
    }
    auditPolicy(ctx, file, policy);
  }
}

function auditPolicy(ctx: AuditContext, file: string, p: Policy): void {
  const d = ctx.display(file);
  const add = (id: string, severity: 'low' | 'medium' | 'high' | 'critical', title: string, evidence: string, asi: ('ASI02' | 'ASI03' | 'ASI05')[], fix: string) => ctx.add({ id, severity, category: 'policy', title, evidence: `${d}: ${evidence}`, asi, fix, file });
  const notes: string[] = [];
  if (p.runtime.isolation === 'bwrap') add('policy.shared-kernel', 'low', 'The policy uses bubblewrap: the agent shares the host kernel', 'runtime.isolation: bwrap', ['ASI05'], 'Prefer `runtime: { isolation: gvisor }` (or `auto`): a kernel bug reachable from the sandbox is then not a host compromise.');

  const interp = p.commands.allow.filter((c) => INTERPRETERS.test(c.split('/').pop()!));
  const priv = p.commands.allow.filter((c) => PRIVILEGED.test(c.split('/').pop()!));
  if (priv.length) add('policy.privileged-commands', /^(sudo|su|doas|docker|podman|nsenter)$/.test(priv.join(' ').split(' ')[0]!) || priv.some((c) => /^(sudo|su|doas|docker|podman|nsenter|chroot|mount|unshare)$/.test(c.split('/').pop()!)) ? 'high' : 'medium', `commands.allow grants tools that escalate or move data by themselves (${priv.join(', ')})`, `commands.allow: [${priv.join(', ')}]`, ['ASI02', 'ASI03'], `Remove ${priv.join(', ')} from commands.allow; reach services through the proxy (network.allow) with brokered secrets instead.`);
  if (interp.length) add('policy.interpreter-commands', 'low', `commands.allow includes interpreters (${interp.join(', ')}): any program can run through them`, `commands.allow: [${interp.join(', ')}]`, ['ASI05'], 'Keep interpreters only where the task needs them, and rely on the sandbox and network policy as the real boundary; add commands.deny patterns for dangerous invocations.');

  const allRules = p.network.allow;
  const broad = allRules.filter((r) => (r.pattern.kind === 'wildcard' && BROAD_SUFFIX.test(r.pattern.suffix)) || (r.pattern.kind === 'cidr' && r.pattern.prefix < (r.pattern.family === 4 ? 16 : 48)));
  if (broad.length) add('policy.broad-network', 'medium', 'network.allow covers storage/hosting domains anyone can publish to', broad.map((r) => r.text).join(', '), ['ASI02'], 'Name exact hosts (e.g. my-bucket.s3.amazonaws.com) instead of wildcards over shared hosting; a wildcard there is an exfiltration channel.');
  const exfil = allRules.filter((r) => r.pattern.kind === 'exact' && EXFIL_HOSTS.test(r.pattern.host));
  if (exfil.length) add('policy.exfil-host', 'medium', 'network.allow includes paste / webhook services', exfil.map((r) => r.text).join(', '), ['ASI02'], `Remove ${exfil.map((r) => r.text).join(', ')} unless the task needs them; restrict methods to GET if it does.`);

  const home = homedir();
  const wideRead = [...p.filesystem.read, ...p.filesystem.write].filter((x) => x === '/' || x === home || x === resolve(home, '..'));
  if (wideRead.length) add('policy.wide-filesystem', 'high', 'The policy exposes the whole home or root filesystem to the agent', `filesystem read/write: ${wideRead.join(', ')}`, ['ASI02', 'ASI03'], 'List the specific paths needed; the workspace is available anyway.');
  const credRead = [...p.filesystem.read, ...p.filesystem.write].filter((x) => CRED_DIRS.test(x));
  if (credRead.length) add('policy.credential-paths', 'high', 'The policy makes credential stores visible to the agent', `filesystem: ${credRead.join(', ')}`, ['ASI03'], `Remove ${credRead.join(', ')}; use secrets: with injection so the agent never holds the credential.`);
  if (p.filesystem.write.length) add('policy.write-outside-workspace', 'medium', 'The policy lets the agent write host paths directly (not staged)', `filesystem.write: ${p.filesystem.write.join(', ')}`, ['ASI02'], 'Prefer the staged workspace (changes reach the host only through `airlock apply`).');

  const rawSecrets = p.env.pass.filter((n) => isSecretName(n));
  if (rawSecrets.length) add('policy.env-pass-secret', 'high', `env.pass hands secret variables to the agent unbrokered (${rawSecrets.join(', ')})`, `env.pass: [${rawSecrets.join(', ')}]`, ['ASI03'], `Move them to secrets: so the agent holds a placeholder:\nsecrets:\n${rawSecrets.map((n) => `  ${n}:\n    from: env:${n}\n    inject: { host: <the API host>, header: Authorization, format: "Bearer {}" }\n    ttl: 30m`).join('\n')}`);
  const setSecrets = Object.entries(p.env.set).filter(([k, v]) => isSecretName(k) && v.length >= 8);
  for (const [, v] of setSecrets) ctx.redactor.register(v);
  if (setSecrets.length) add('policy.env-set-secret', 'high', `env.set writes a secret value into the policy (${setSecrets.map(([k]) => k).join(', ')})`, `env.set: ${setSecrets.map(([k, v]) => `${k}=${ctx.redactor.redact(v)}`).join(', ')}`, ['ASI03'], 'Never put secret values in the policy file; use secrets: with from: env:NAME.');
  for (const s of p.secrets) {
    if (s.inject.host.kind === 'wildcard') add('policy.secret-wildcard-host', 'medium', `Secret ${s.name} may be injected toward any subdomain of ${s.inject.host.suffix}`, `secrets.${s.name}.inject.host: ${s.inject.host.text}`, ['ASI03'], `Name the exact API host for ${s.name}.`);
    if (s.ttlMs === undefined) notes.push(`secret ${s.name} has no ttl (valid for the whole session)`);
  }

  const fsAccess: CategoryAccess = wideRead.length ? cat('unrestricted', 'home or / exposed') : cat('scoped', `staged workspace${p.filesystem.read.length ? ` + read ${p.filesystem.read.length} path(s)` : ''}${p.filesystem.write.length ? ` + write ${p.filesystem.write.length} path(s)` : ''}`);
  const shell = p.commands.allow.length ? cat('scoped', `commands.allow: ${p.commands.allow.join(', ')}`) : cat('none', 'no commands allowed');
  const network = p.network.allow.length ? cat('scoped', `network.allow: ${p.network.allow.map((r) => r.text).slice(0, 8).join(', ')}`) : cat('none', 'no network (default deny)');
  const secrets = rawSecrets.length || credRead.length ? cat('unrestricted', 'raw secrets or credential files reach the sandbox') : p.secrets.length ? cat('scoped', `brokered: ${p.secrets.map((s) => s.name).join(', ')} (placeholders only)`) : cat('none', 'no secrets');
  ctx.agents.push(makeEntry({ agent: 'airlock', name: 'airlock policy', scope: 'repo', files: [file], categories: { filesystem: fsAccess, shell, network, secrets }, everythingByDefault: false, notes: [`isolation: ${p.runtime.isolation}`, ...notes] }));
}
