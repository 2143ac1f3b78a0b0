/**
 * Recognising credentials and redacting them. Two mechanisms keep secret values out of every
 * output: each value the audit reads is shown only as `redact(value)` (a short, known prefix and
 * the length), and the finished report is passed through `Redactor.scrubDeep`, which replaces
 * every value the audit registered plus anything shaped like a known token. So even a value
 * quoted by accident (a command line, a config line) never leaves the process whole.
 */

export interface TokenShape {
  kind: string;
  /** Global regexp matching the whole token inside arbitrary text. */
  re: RegExp;
  /** The public prefix that may be shown, e.g. `ghp_`. */
  prefix: (v: string) => string;
  longLived: boolean;
}

const fixed = (p: string) => () => p;

/** Known credential shapes, most specific first. */
export const TOKEN_SHAPES: readonly TokenShape[] = [
  { kind: 'github-fine-grained-pat', re: /\bgithub_pat_[A-Za-z0-9_]{40,255}/g, prefix: fixed('github_pat_'), longLived: true },
  { kind: 'github-token', re: /\bgh[pousr]_[A-Za-z0-9]{30,255}\b/g, prefix: (v) => v.slice(0, 4), longLived: true },
  { kind: 'anthropic-api-key', re: /\bsk-ant-[A-Za-z0-9_-]{20,255}/g, prefix: (v) => (v.startsWith('sk-ant-api') ? 'sk-ant-api' : 'sk-ant-'), longLived: true },
  { kind: 'openai-api-key', re: /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,255}/g, prefix: (v) => (/^sk-(proj|svcacct|admin)-/.exec(v)?.[0] ?? 'sk-'), longLived: true },
  { kind: 'aws-access-key', re: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g, prefix: (v) => v.slice(0, 4), longLived: true },
  { kind: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,255}/g, prefix: (v) => v.slice(0, 5), longLived: true },
  { kind: 'npm-token', re: /\bnpm_[A-Za-z0-9]{36,255}\b/g, prefix: fixed('npm_'), longLived: true },
  { kind: 'gitlab-token', re: /\bglpat-[A-Za-z0-9_-]{20,255}/g, prefix: fixed('glpat-'), longLived: true },
  { kind: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35,255}\b/g, prefix: fixed('AIza'), longLived: true },
  { kind: 'pypi-token', re: /\bpypi-[A-Za-z0-9_-]{50,}/g, prefix: fixed('pypi-'), longLived: true },
  { kind: 'huggingface-token', re: /\bhf_[A-Za-z0-9]{30,}\b/g, prefix: fixed('hf_'), longLived: true },
  { kind: 'stripe-key', re: /\b[sr]k_live_[A-Za-z0-9]{20,}\b/g, prefix: (v) => v.slice(0, 8), longLived: true },
  { kind: 'private-key', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g, prefix: fixed('-----BEGIN'), longLived: true },
];

/** Token shape of a whole value, if it is one. */
export function shapeOf(value: string): TokenShape | undefined {
  const v = value.trim();
  for (const s of TOKEN_SHAPES) {
    s.re.lastIndex = 0;
    const m = s.re.exec(v);
    s.re.lastIndex = 0;
    if (m && m.index === 0 && (m[0].length === v.length || s.kind === 'private-key')) return s;
  }
  return undefined;
}

/** All token-shaped substrings of a text. */
export function findTokens(text: string): { shape: TokenShape; value: string; index: number }[] {
  const out: { shape: TokenShape; value: string; index: number }[] = [];
  const taken: [number, number][] = [];
  for (const s of TOKEN_SHAPES) {
    s.re.lastIndex = 0;
    for (const m of text.matchAll(s.re)) {
      const start = m.index ?? 0;
      const end = start + m[0].length;
      if (taken.some(([a, b]) => start < b && end > a)) continue;
      taken.push([start, end]);
      out.push({ shape: s, value: m[0], index: start });
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

/**
 * `ghp_…(40 chars)`: the known public prefix of a token shape and the length; for values of no
 * known shape, nothing but the length. Never more than the prefix.
 */
export function redact(value: string): string {
  const v = value.trim();
  const shape = shapeOf(v);
  const prefix = shape ? shape.prefix(v) : '';
  return `${prefix}…(${v.length} chars)`;
}

/** 16+ characters mixing upper, lower and digits, not a path, URL or dotted name. */
export function looksRandom(w: string): boolean {
  if (w.length < 16 || w.startsWith('/') || w.startsWith('-') || w.startsWith('~') || /\.[a-z]{2,4}$/.test(w)) return false;
  if (w.split('/').length > 2) return false;
  return /[A-Z]/.test(w) && /[a-z]/.test(w) && /[0-9]/.test(w);
}

/** Looks like a real secret value rather than a placeholder, reference or empty string. */
export function looksLikeSecretValue(value: string): boolean {
  // `Bearer X`, `token X`: judge X.
  const v = value.trim().replace(/^(bearer|basic|token|bot)\s+/i, '');
  if (/\$\{[^}]*\}|\$\{\{|^\$[A-Za-z_]/.test(v)) return false; // contains a variable reference
  if (v.length < 8) return false;
  if (/^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(v)) return false; // $VAR / ${VAR}
  if (/^\$\{\{.*\}\}$/.test(v)) return false; // ${{ secrets.X }}
  if (/^\$\{(env|input):/.test(v)) return false; // VS Code ${env:X}, ${input:x}
  if (/^(<[^>]*>|x{4,}|\*{4,}|changeme|your[-_].*|placeholder.*|example.*|REPLACE.*|TODO.*)$/i.test(v)) return false;
  if (/^airlock_ph_/.test(v)) return false; // airlock placeholder
  if (/^(\{\{.*\}\}|@@[A-Za-z0-9_]+@@|%[A-Za-z_]+%|\$\([^)]*\))$/.test(v)) return false; // templates: {{x}}, @@X@@, %X%, $(cmd)
  if (/^(true|false|null|none|yes|no)$/i.test(v)) return false;
  return true;
}

const SECRET_NAME = /(^|_)(TOKEN|KEY|SECRET|PASSWORD|PASSWD|PASS|PAT|CREDENTIALS?|APIKEY|API_KEY|AUTH)(_|$)/i;
const NOT_SECRET_NAME = /^(AWS_(REGION|DEFAULT_REGION|PROFILE|DEFAULT_OUTPUT|CONFIG_FILE|SHARED_CREDENTIALS_FILE|SDK_LOAD_CONFIG|PAGER|CA_BUNDLE|ROLE_SESSION_NAME|STS_REGIONAL_ENDPOINTS|EC2_METADATA_DISABLED|ENDPOINT_URL|WEB_IDENTITY_TOKEN_FILE|ROLE_ARN)|SSH_AUTH_SOCK|GPG_AGENT_INFO|.*_(KEY_?FILE|KEY_?PATH|TOKEN_?FILE|TOKEN_?PATH|FILE|PATH|DIR|URL|HOST|PORT|ID|NAME|USER|USERNAME|REGION))$/i;

/** A variable name that conventionally holds a secret: `*_TOKEN`, `*_KEY`, `*_SECRET`, `AWS_*`... */
export function isSecretName(name: string): boolean {
  if (name === 'AWS_ACCESS_KEY_ID') return true;
  if (NOT_SECRET_NAME.test(name)) return false;
  return SECRET_NAME.test(name) || /^AWS_/.test(name);
}

/** Kind of a credential known only by its variable name. */
export function kindFromName(name: string): string {
  const n = name.toUpperCase();
  if (n.startsWith('AWS_')) return n === 'AWS_SESSION_TOKEN' ? 'aws-session-token' : n.includes('SECRET') ? 'aws-secret-key' : 'aws-credential';
  if (/GITHUB|GH_/.test(n)) return 'github-token';
  if (/ANTHROPIC|CLAUDE/.test(n)) return 'anthropic-api-key';
  if (/OPENAI/.test(n)) return 'openai-api-key';
  if (/SLACK/.test(n)) return 'slack-token';
  if (/NPM/.test(n)) return 'npm-token';
  if (/GITLAB/.test(n)) return 'gitlab-token';
  if (/PASS/.test(n)) return 'password';
  return 'secret';
}

/** Which host a credential of this kind is used with, for the generated injection rule. */
export function injectHostFor(kind: string, name: string): { host: string; header: string; format: string } | undefined {
  const k = `${kind} ${name}`.toLowerCase();
  if (/github/.test(k)) return { host: 'api.github.com', header: 'Authorization', format: 'Bearer {}' };
  if (/anthropic|claude/.test(k)) return { host: 'api.anthropic.com', header: 'x-api-key', format: '{}' };
  if (/openai/.test(k)) return { host: 'api.openai.com', header: 'Authorization', format: 'Bearer {}' };
  if (/gitlab/.test(k)) return { host: 'gitlab.com', header: 'PRIVATE-TOKEN', format: '{}' };
  if (/npm/.test(k)) return { host: 'registry.npmjs.org', header: 'Authorization', format: 'Bearer {}' };
  if (/slack/.test(k)) return { host: 'slack.com', header: 'Authorization', format: 'Bearer {}' };
  if (/hugging|hf_/.test(k)) return { host: 'huggingface.co', header: 'Authorization', format: 'Bearer {}' };
  return undefined;
}

const CONTEXT_SECRET = /(\b(?:bearer|basic)\s+|[\w.-]*(?:token|password|passwd|pwd|secret|api[_-]?key|apikey|auth|credential)[\w.-]*["']?\s*[:=]\s*["']?|--?[\w-]*(?:token|password|passwd|secret|api[_-]?key|apikey|auth)[\w-]*\s+["']?)([A-Za-z0-9+/_.~=-]{8,})(?![…A-Za-z0-9+/_.~=-])/gi;
/** `NPM_TOKEN`, `ANTHROPIC_API_KEY`: a variable name, not a value. */
const ENV_NAME = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$|^[A-Z]+$/;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]{4,})@/gi;

/**
 * Collects every secret value the audit reads so the final report can be scrubbed of them.
 * Values shorter than 6 characters are not registered (they would scrub ordinary words); such
 * values are never quoted in the first place.
 */
export class Redactor {
  private readonly values = new Set<string>();

  register(value: string | undefined): void {
    if (typeof value !== 'string') return;
    const v = value.trim();
    if (v.length >= 6) this.values.add(v);
    // Also the individual lines of multi-line values (PEM bodies).
    if (v.includes('\n')) for (const line of v.split(/\r?\n/)) if (line.trim().length >= 16) this.values.add(line.trim());
  }

  /** Registers and redacts in one step. */
  redact(value: string): string {
    this.register(value);
    return redact(value);
  }

  scrub(text: string): string {
    let out = text;
    if (this.values.size) {
      const sorted = [...this.values].sort((a, b) => b.length - a.length);
      for (const v of sorted) if (out.includes(v)) out = out.split(v).join(redact(v));
    }
    for (const t of findTokens(out)) out = out.split(t.value).join(redact(t.value));
    // Values of no known shape, recognisable by their context: `Bearer X`, `token=X`, `user:X@host`.
    out = out.replace(CONTEXT_SECRET, (m, pre: string, v: string) => (ENV_NAME.test(v) ? m : `${pre}${redact(v)}`));
    out = out.replace(URL_PASSWORD, (_m, pre: string, v: string) => `${pre}${redact(v)}@`);
    return out;
  }

  /**
   * For quoting raw config text (a command line, a script line): `scrub`, plus every word that
   * looks randomly generated (16+ characters mixing upper case, lower case and digits) is redacted
   * too, since a secret of no known shape may sit there without a telling keyword.
   */
  quote(text: string): string {
    return this.scrub(text).replace(/[A-Za-z0-9_+/=.~-]{16,}/g, (w) => (looksRandom(w) ? redact(w) : w));
  }

  scrubDeep<T>(value: T): T {
    if (typeof value === 'string') return this.scrub(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.scrubDeep(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[this.scrub(k)] = this.scrubDeep(v);
      return out as T;
    }
    return value;
  }
}
