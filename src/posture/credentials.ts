/**
 * Credential exposure: what long-lived credentials an agent started by this user could read.
 * - the environment (only with `--env`): by name (`*_TOKEN`, `*_KEY`, `*_SECRET`, `AWS_*`, ...)
 *   and by value shape (GitHub, AWS, OpenAI, Anthropic, Slack, npm, GitLab, PEM keys, ...);
 * - credential files in the home: `.aws/credentials`, `.npmrc`, `.git-credentials`,
 *   `.docker/config.json`, `.config/gh/hosts.yml`, `.kube/config`, `.ssh/id_*` (encrypted or not),
 *   `.netrc`, `.pypirc`, agent logins (`.codex/auth.json`, `.claude/.credentials.json`), cloud
 *   SDK logins, and tokens exported from shell start-up files.
 * Values are redacted as they are read; nothing is ever printed whole.
 */
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { AuditContext } from './context.js';
import { isRecord, parseJsonc } from './jsonc.js';
import { listDir, statOrUndefined } from './fsread.js';
import { findTokens, injectHostFor, isSecretName, kindFromName, looksLikeSecretValue, shapeOf } from './secrets.js';
import { BUILTIN_DENY_HOME } from '../policy/index.js';
import type { Severity } from './types.js';

export function scanEnvironment(ctx: AuditContext, env: Record<string, string | undefined>): void {
  const names = Object.keys(env).sort();
  for (const name of names) {
    const value = env[name];
    if (typeof value !== 'string' || !value.trim()) continue;
    const shaped = shapeOf(value) ?? findTokens(value)[0]?.shape;
    const byName = isSecretName(name) && looksLikeSecretValue(value);
    if (!shaped && !byName) continue;
    const kind = shaped?.kind ?? kindFromName(name);
    const session = name === 'AWS_SESSION_TOKEN' || /^ASIA/.test(value.trim()) || name === 'ACTIONS_ID_TOKEN_REQUEST_TOKEN';
    const severity: Severity = session ? 'medium' : 'high';
    const red = ctx.redactor.redact(value);
    ctx.credential({ source: 'env', kind, location: name, redacted: red, longLived: !session, severity });
    const inj = injectHostFor(kind, name);
    if (inj) ctx.hints.secrets.set(name, inj);
    ctx.add({
      id: 'cred.env-token',
      severity,
      category: 'credential',
      title: `The environment holds ${session ? 'a session credential' : 'a long-lived credential'} (${name}) every agent started here inherits`,
      evidence: `env ${name} = ${red}${shaped ? ` (${shaped.kind})` : ''}`,
      asi: ['ASI03'],
      fix: `Do not export ${name} into the shell agents start from. Under airlock the agent gets only a placeholder and the proxy injects the value toward one host:\nsecrets:\n  ${name}:\n    from: env:${name}\n    inject: { host: ${inj?.host ?? '<the API host>'}, header: ${inj?.header ?? 'Authorization'}, format: "${inj?.format ?? 'Bearer {}'}" }\n    ttl: 30m`,
    });
  }
}

interface FileCred {
  kind: string;
  key: string;
  value?: string;
  /** For values not shown at all (e.g. `encrypted`). */
  description?: string;
  severity: Severity;
  longLived?: boolean;
}

export function scanHomeCredentials(ctx: AuditContext): void {
  const h = (p: string) => join(ctx.home, p);
  check(ctx, h('.aws/credentials'), awsCredentials);
  check(ctx, h('.npmrc'), npmrc);
  check(ctx, h('.git-credentials'), gitCredentials);
  check(ctx, h('.docker/config.json'), dockerConfig);
  check(ctx, h('.config/gh/hosts.yml'), ghHosts);
  check(ctx, h('.kube/config'), kubeConfig);
  check(ctx, h('.netrc'), netrc);
  check(ctx, h('.pypirc'), pypirc);
  check(ctx, h('.codex/auth.json'), jsonSecrets('openai'));
  check(ctx, h('.claude/.credentials.json'), jsonSecrets('anthropic'));
  check(ctx, h('.config/gcloud/application_default_credentials.json'), jsonSecrets('gcloud'));
  check(ctx, h('.config/hub'), yamlTokens);
  check(ctx, h('.vault-token'), wholeFile('vault-token'));
  check(ctx, h('.env'), dotenv, true);
  for (const rc of ['.bashrc', '.zshrc', '.profile', '.bash_profile', '.zprofile', '.zshenv', '.config/fish/config.fish']) check(ctx, h(rc), shellRc, true);
  for (const name of listDir(h('.ssh'))) {
    if (name.endsWith('.pub') || ['known_hosts', 'known_hosts.old', 'config', 'authorized_keys', 'environment'].includes(name)) continue;
    check(ctx, join(h('.ssh'), name), sshKey, true);
  }
}

type Extractor = (text: string) => FileCred[];

/** Credential files that must never be committed; in a repository they are checked like in a home. */
export const CREDENTIAL_FILE_NAMES = new Set(['.npmrc', '.pypirc', '.netrc', '.git-credentials', 'credentials', 'hosts.yml', '.dockercfg']);

/** Checks a credential file found in a repository; returns the number of credentials found. */
export function checkCredentialFile(ctx: AuditContext, file: string, name: string, severity: Severity): number {
  const extract: Extractor | undefined = { '.npmrc': npmrc, '.pypirc': pypirc, '.netrc': netrc, '.git-credentials': gitCredentials, credentials: awsCredentials, 'hosts.yml': ghHosts }[name];
  if (!extract) return 0;
  return check(ctx, file, (t) => extract(t).map((c) => ({ ...c, severity })), true, 'repo-file');
}

function check(ctx: AuditContext, file: string, extract: Extractor, quietIfNone = false, source: 'home-file' | 'repo-file' = 'home-file'): number {
  const r = ctx.read(file);
  if (!r.ok) return 0;
  let creds: FileCred[];
  try {
    creds = extract(r.text);
  } catch {
    ctx.malformed(file, 'Credential file', 'could not be parsed; treated as holding credentials');
    creds = [{ kind: 'unknown', key: '(file)', description: `${r.text.length} bytes`, severity: 'medium' }];
  }
  // Templates and references (`${NPM_TOKEN}`, `{{token}}`) are not credentials.
  creds = creds.filter((c) => c.value === undefined || looksLikeSecretValue(c.value) || shapeOf(c.value) !== undefined);
  if (!creds.length) {
    if (!quietIfNone && r.text.trim()) ctx.warn(`${ctx.display(file)}: present, no credential recognised`);
    return 0;
  }
  const mode = r.stat.mode & 0o777;
  const loose = (mode & 0o044) !== 0;
  const shown: string[] = [];
  let worst: Severity = 'low';
  for (const c of creds) {
    const red = c.value !== undefined ? ctx.redactor.redact(c.value) : c.description ?? 'present';
    shown.push(`${c.key}: ${red}`);
    ctx.credential({ source, kind: c.kind, location: `${file}${c.key === '(file)' ? '' : `:${c.key}`}`, redacted: red, longLived: c.longLived ?? true, severity: c.severity });
    if (rank(c.severity) > rank(worst)) worst = c.severity;
  }
  if (source === 'repo-file') {
    ctx.add({
      id: 'cred.committed-credential-file',
      severity: worst,
      category: 'credential',
      title: `${ctx.display(file)} is a credential file inside the repository (${creds.length} credential(s))`,
      evidence: `${ctx.display(file)}: ${shown.slice(0, 6).join('; ')}`,
      asi: ['ASI03'],
      fix: `Revoke and rotate these credentials, remove ${ctx.display(file)} from the repository and its history, and add it to .gitignore; keep registry/API credentials out of the tree the agent works in (airlock: secrets: with injection).`,
      file,
    });
    return creds.length;
  }
  const rel = file.slice(ctx.home.length + 1);
  const covered = BUILTIN_DENY_HOME.some((d) => rel === d || rel.startsWith(`${d}/`));
  if (!covered) ctx.hints.denyPaths.add(`~/${rel}`);
  ctx.add({
    id: 'cred.home-file',
    severity: worst,
    category: 'credential',
    title: `${ctx.display(file)} holds ${creds.length} credential(s) any agent running as this user can read`,
    evidence: `${ctx.display(file)} (mode ${mode.toString(8).padStart(4, '0')}${loose ? ', readable by group/others' : ''}): ${shown.slice(0, 6).join('; ')}${shown.length > 6 ? `; +${shown.length - 6} more` : ''}`,
    asi: ['ASI03'],
    fix: `${covered ? `airlock hides ~/${rel} from the sandbox by default (built-in deny list); run agents under \`airlock run\`` : `Hide it from agents:\nfilesystem:\n  deny: [~/${rel}]`}. Prefer short-lived credentials (SSO / OIDC / a credential helper) over static ones${loose ? `; and \`chmod 600 ${ctx.display(file)}\`` : ''}.`,
    file,
  });
  return creds.length;
}

function rank(s: Severity): number {
  return ['low', 'medium', 'high', 'critical'].indexOf(s);
}

function ini(text: string): { section: string; key: string; value: string }[] {
  const out: { section: string; key: string; value: string }[] = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!.trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) out.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  return out;
}

const awsCredentials: Extractor = (text) =>
  ini(text)
    .filter((e) => /^aws_(access_key_id|secret_access_key|session_token)$/i.test(e.key) && e.value)
    .map((e) => {
      const session = /session_token/i.test(e.key) || /^ASIA/.test(e.value);
      return { kind: /secret/i.test(e.key) ? 'aws-secret-key' : /session/i.test(e.key) ? 'aws-session-token' : 'aws-access-key', key: `[${e.section}] ${e.key}`, value: e.value, severity: session ? 'medium' : 'high', longLived: !session };
    });

const npmrc: Extractor = (text) =>
  ini(text)
    .filter((e) => /(_authToken|_auth|_password)$/.test(e.key) && looksLikeSecretValue(e.value.replace(/^["']|["']$/g, '')))
    .map((e) => ({ kind: 'npm-token', key: e.key, value: e.value.replace(/^["']|["']$/g, ''), severity: 'high' }));

const gitCredentials: Extractor = (text) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .flatMap((l) => {
      try {
        const u = new URL(l);
        const user = decodeURIComponent(u.username);
        const pw = decodeURIComponent(u.password);
        if (!pw && shapeOf(user)) return [{ kind: shapeOf(user)!.kind, key: `${u.protocol}//${u.hostname}`, value: user, severity: 'high' as Severity }];
        if (!pw) return [];
        return [{ kind: shapeOf(pw)?.kind ?? 'git-password', key: `${u.protocol}//${u.hostname}`, value: pw, severity: 'high' as Severity }];
      } catch {
        return [];
      }
    });

const dockerConfig: Extractor = (text) => {
  const p = parseJsonc(text);
  if (!p.ok) throw new Error('json');
  const v = p.value;
  if (!isRecord(v) || !isRecord(v.auths)) return [];
  const out: FileCred[] = [];
  for (const [host, a] of Object.entries(v.auths)) {
    if (!isRecord(a)) continue;
    if (typeof a.auth === 'string' && a.auth) {
      const decoded = Buffer.from(a.auth, 'base64').toString('utf8');
      const pw = decoded.slice(decoded.indexOf(':') + 1);
      out.push({ kind: 'registry-password', key: `auths.${host}`, value: a.auth, severity: 'high' });
      if (pw) out.push({ kind: shapeOf(pw)?.kind ?? 'registry-password', key: `auths.${host} (decoded password)`, value: pw, severity: 'high' });
    }
    if (typeof a.identitytoken === 'string' && a.identitytoken) out.push({ kind: 'registry-token', key: `auths.${host}.identitytoken`, value: a.identitytoken, severity: 'high' });
  }
  return out;
};

const ghHosts: Extractor = (text) => {
  const v = parseYaml(text) as unknown;
  if (!isRecord(v)) return [];
  const out: FileCred[] = [];
  for (const [host, cfg] of Object.entries(v)) {
    if (!isRecord(cfg)) continue;
    if (typeof cfg.oauth_token === 'string' && cfg.oauth_token) out.push({ kind: 'github-token', key: `${host}.oauth_token`, value: cfg.oauth_token, severity: 'high' });
    if (isRecord(cfg.users)) for (const [u, uc] of Object.entries(cfg.users)) if (isRecord(uc) && typeof uc.oauth_token === 'string' && uc.oauth_token) out.push({ kind: 'github-token', key: `${host}.users.${u}.oauth_token`, value: uc.oauth_token, severity: 'high' });
  }
  return out;
};

const kubeConfig: Extractor = (text) => {
  const v = parseYaml(text) as unknown;
  if (!isRecord(v) || !Array.isArray(v.users)) return [];
  const out: FileCred[] = [];
  for (const u of v.users) {
    if (!isRecord(u) || !isRecord(u.user)) continue;
    const name = typeof u.name === 'string' ? u.name : '?';
    const user = u.user;
    for (const k of ['token', 'client-key-data', 'password']) {
      if (typeof user[k] === 'string' && user[k]) out.push({ kind: k === 'client-key-data' ? 'kube-client-key' : k === 'token' ? 'kube-token' : 'kube-password', key: `users.${name}.${k}`, value: user[k] as string, severity: 'high' });
    }
    if (typeof user['client-key'] === 'string') out.push({ kind: 'kube-client-key', key: `users.${name}.client-key`, description: `file ${user['client-key']}`, severity: 'high' });
    const ap = isRecord(user['auth-provider']) && isRecord(user['auth-provider'].config) ? user['auth-provider'].config : undefined;
    if (ap) for (const k of ['access-token', 'refresh-token', 'id-token', 'client-secret']) if (typeof ap[k] === 'string' && ap[k]) out.push({ kind: 'kube-token', key: `users.${name}.auth-provider.config.${k}`, value: ap[k] as string, severity: 'high' });
  }
  return out;
};

const netrc: Extractor = (text) => {
  const toks = text.split(/\s+/).filter(Boolean);
  const out: FileCred[] = [];
  let machine = 'default';
  for (let i = 0; i < toks.length; i++) {
    if (toks[i] === 'machine') machine = toks[++i] ?? '?';
    else if (toks[i] === 'default') machine = 'default';
    else if ((toks[i] === 'password' || toks[i] === 'account') && toks[i + 1]) out.push({ kind: shapeOf(toks[i + 1]!)?.kind ?? 'password', key: `machine ${machine} ${toks[i]}`, value: toks[++i]!, severity: 'high' });
  }
  return out;
};

const pypirc: Extractor = (text) =>
  ini(text)
    .filter((e) => e.key === 'password' && looksLikeSecretValue(e.value))
    .map((e) => ({ kind: shapeOf(e.value)?.kind ?? 'pypi-password', key: `[${e.section}] password`, value: e.value, severity: 'high' }));

function jsonSecrets(label: string): Extractor {
  return (text) => {
    const p = parseJsonc(text);
    if (!p.ok) throw new Error('json');
    const out: FileCred[] = [];
    const walk = (v: unknown, path: string, depth: number) => {
      if (depth > 5) return;
      if (typeof v === 'string') {
        const key = path.split('.').pop() ?? '';
        if ((/token|secret|key|password/i.test(key) && !/_id$|type|expires|scopes/i.test(key) && looksLikeSecretValue(v)) || shapeOf(v)) {
          out.push({ kind: shapeOf(v)?.kind ?? `${label}-${/refresh/i.test(key) ? 'refresh-token' : /access/i.test(key) ? 'access-token' : 'credential'}`, key: path, value: v, severity: 'high' });
        }
      } else if (isRecord(v)) for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k, depth + 1);
    };
    walk(p.value, '', 0);
    return out;
  };
}

const yamlTokens: Extractor = (text) => findTokens(text).map((t) => ({ kind: t.shape.kind, key: 'token', value: t.value, severity: 'high' as Severity }));

function wholeFile(kind: string): Extractor {
  return (text) => (looksLikeSecretValue(text.trim()) ? [{ kind, key: '(file)', value: text.trim(), severity: 'high' as Severity }] : []);
}

const dotenv: Extractor = (text) => {
  const out: FileCred[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*["']?([^"'\s#]+)/.exec(line);
    if (!m) continue;
    const shaped = shapeOf(m[2]!);
    if (shaped || (isSecretName(m[1]!) && looksLikeSecretValue(m[2]!))) out.push({ kind: shaped?.kind ?? kindFromName(m[1]!), key: m[1]!, value: m[2]!, severity: 'high' });
  }
  return out;
};

const shellRc: Extractor = (text) => {
  const out: FileCred[] = [];
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    const m = /^\s*(?:export\s+|set\s+-gx\s+|setenv\s+)?([A-Za-z_][A-Za-z0-9_]*)[= ]\s*["']?([^"'\s;]+)/.exec(line);
    const tokens = findTokens(line);
    if (tokens.length) {
      for (const t of tokens) out.push({ kind: t.shape.kind, key: m ? `export ${m[1]}` : 'token', value: t.value, severity: 'high' });
    } else if (m && isSecretName(m[1]!) && looksLikeSecretValue(m[2]!) && !m[2]!.startsWith('$') && !m[2]!.startsWith('`')) {
      out.push({ kind: kindFromName(m[1]!), key: `export ${m[1]}`, value: m[2]!, severity: 'high' });
    }
  }
  return out;
};

const sshKey: Extractor = (text) => {
  const m = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----([\s\S]*?)-----END/.exec(text);
  if (!m) return [];
  const type = m[1]!.trim() || 'PKCS8';
  let encrypted = /ENCRYPTED/.test(type) || /Proc-Type:\s*4,ENCRYPTED/.test(m[2]!);
  if (type === 'OPENSSH') {
    const body = Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64');
    // openssh-key-v1\0, then uint32 length + ciphername
    const magic = 'openssh-key-v1\0';
    if (body.subarray(0, magic.length).toString('latin1') === magic) {
      const len = body.readUInt32BE(magic.length);
      const cipher = body.subarray(magic.length + 4, magic.length + 4 + len).toString('latin1');
      encrypted = cipher !== 'none';
    }
  }
  return [{ kind: 'ssh-private-key', key: `${type} private key`, description: encrypted ? 'passphrase-protected' : 'unencrypted', severity: encrypted ? 'low' : 'high' }];
};

/** True if a home-relative path exists (for tests and summary). */
export function homeHas(ctx: AuditContext, rel: string): boolean {
  return statOrUndefined(join(ctx.home, rel)) !== undefined;
}
