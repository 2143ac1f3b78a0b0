/**
 * Credential patterns, the well-known documentation examples that are not alarms, and the
 * redaction every piece of evidence passes through before it is printed. A finding never carries
 * a secret: `ghp_AbCd…` becomes `ghp_…[REDACTED]`.
 */
import { entropy } from './context.js';

export interface SecretPattern {
  id: string;
  name: string;
  re: RegExp;
  /** Index of the capture group holding the secret itself (0 = whole match). */
  group?: number;
}

export const SECRET_PATTERNS: SecretPattern[] = [
  { id: 'aws-access-key', name: 'AWS access key id', re: /\b((?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16})\b/g, group: 1 },
  { id: 'aws-secret-key', name: 'AWS secret access key', re: /aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi, group: 1 },
  { id: 'github-token', name: 'GitHub token', re: /\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255})\b/g, group: 1 },
  { id: 'github-pat', name: 'GitHub fine-grained token', re: /\b(github_pat_[A-Za-z0-9_]{60,255})\b/g, group: 1 },
  { id: 'slack-token', name: 'Slack token', re: /\b(xox[abposr]-[A-Za-z0-9-]{10,})\b/g, group: 1 },
  { id: 'slack-webhook', name: 'Slack webhook', re: /(https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{16,})/g, group: 1 },
  { id: 'private-key', name: 'private key', re: /(-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----)/g, group: 1 },
  { id: 'anthropic-key', name: 'Anthropic API key', re: /\b(sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{20,})/g, group: 1 },
  { id: 'openai-key', name: 'OpenAI API key', re: /\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}|sk-(?:proj|svcacct)-[A-Za-z0-9_-]{40,}|sk-[A-Za-z0-9]{48})\b/g, group: 1 },
  { id: 'npm-token', name: 'npm token', re: /\b(npm_[A-Za-z0-9]{36})\b/g, group: 1 },
  { id: 'npmrc-auth', name: 'registry auth token', re: /:_(?:authToken|auth|password)\s*=\s*([^\s$"'{][^\s"']{11,})/g, group: 1 },
  { id: 'google-api-key', name: 'Google API key', re: /\b(AIza[0-9A-Za-z_-]{35})\b/g, group: 1 },
  { id: 'stripe-key', name: 'Stripe live key', re: /\b((?:sk|rk)_live_[0-9A-Za-z]{20,})\b/g, group: 1 },
  { id: 'gitlab-token', name: 'GitLab token', re: /\b(glpat-[0-9A-Za-z_-]{20,})\b/g, group: 1 },
  { id: 'huggingface-token', name: 'Hugging Face token', re: /\b(hf_[A-Za-z]{34,})\b/g, group: 1 },
  { id: 'pypi-token', name: 'PyPI token', re: /\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})/g, group: 1 },
  { id: 'discord-webhook', name: 'Discord webhook', re: /(https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d+\/[A-Za-z0-9_-]{20,})/g, group: 1 },
  { id: 'sendgrid-key', name: 'SendGrid API key', re: /\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})\b/g, group: 1 },
  { id: 'azure-storage-key', name: 'Azure storage account key', re: /AccountKey=([A-Za-z0-9+/]{86}==)/g, group: 1 },
  { id: 'digitalocean-token', name: 'DigitalOcean token', re: /\b(do[por]_v1_[a-f0-9]{64})\b/g, group: 1 },
  { id: 'shopify-token', name: 'Shopify token', re: /\b(shp(at|ss|ca|pa)_[a-fA-F0-9]{32})\b/g, group: 1 },
  { id: 'vault-token', name: 'HashiCorp Vault token', re: /\b(hvs\.[A-Za-z0-9_-]{24,})\b/g, group: 1 },
  { id: 'mailgun-key', name: 'Mailgun API key', re: /\b(key-[0-9a-f]{32})\b/g, group: 1 },
  { id: 'telegram-bot-token', name: 'Telegram bot token', re: /\b(\d{8,10}:AA[A-Za-z0-9_-]{33})\b/g, group: 1 },
  { id: 'square-token', name: 'Square token', re: /\b(sq0(atp|csp)-[A-Za-z0-9_-]{22,43})\b/g, group: 1 },
  { id: 'url-credentials', name: 'credentials in a URL', re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"'$]+:([^\s:/@"'${}<>]{8,})@[A-Za-z0-9.-]+/g, group: 1 },
];

/** Generic `secret = "…"` style assignments with a high-entropy value. */
export const GENERIC_ASSIGNMENT = /(?:^|[^A-Za-z0-9])([A-Za-z0-9_.-]*(?:secret|token|passwd|password|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|auth)[A-Za-z0-9_.-]*)["']?\s*(?:[:=]|:=|=>)\s*["'`]([^"'`\s]{16,})["'`]/gi;

/** AWS's own documentation keys and their relatives: never alarms. */
const DOC_EXAMPLES = [
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'AKIAI44QH8DHBEXAMPLE',
  'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  'ASIAIOSFODNN7EXAMPLE',
];

/** True for values that are obviously placeholders, examples or test dummies. */
export function isPlaceholderSecret(value: string): boolean {
  if (DOC_EXAMPLES.some((d) => value.includes(d))) return true;
  const v = value.toLowerCase();
  if (/example|sample|dummy|placeholder|fake|changeme|change_me|redacted|your[_-]|<[^>]*>|\$\{|\{\{|%[a-z_(]|xxxx|\*\*\*\*|0000000|1234567|abcdef(ghij|0123)|test(ing)?[_-]?(key|token|secret)|insert|replace|todo|notreal|not[_-]real|invalid/.test(v)) return true;
  // a body that is one character repeated, or a short alphabet
  const body = value.replace(/^(ghp_|gho_|ghs_|ghu_|ghr_|github_pat_|xox[a-z]-|sk-ant-api\d\d-|sk-proj-|sk-|npm_|AKIA|AIza|glpat-|hf_)/, '');
  if (body.length >= 8 && new Set(body).size <= 4) return true;
  if (body.length >= 16 && entropy(body) < 3.0) return true;
  return false;
}

/** Values that are code, not secrets: variable references, function calls, env lookups. */
export function isReferenceValue(value: string): boolean {
  return /^(\$|process\.env|os\.environ|env\.|secrets\.|getenv|vault:|arn:|ssm:|projects\/)/.test(value) || /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(value) || /\(|\)/.test(value) || /^[a-z]+(-[a-z]+)+$/.test(value) || /^\/?([\w.-]+\/)+[\w.-]*$/.test(value);
}

/** Replaces every recognizable secret in `text` by its first characters and `…[REDACTED]`. */
export function redact(text: string): string {
  let out = text;
  for (const p of SECRET_PATTERNS) {
    if (p.id === 'private-key') continue;
    out = out.replace(p.re, (m: string, ...groups: unknown[]) => {
      const secret = p.group ? String(groups[p.group - 1] ?? m) : m;
      if (DOC_EXAMPLES.some((d) => secret.includes(d))) return m;
      return m.replace(secret, mask(secret));
    });
  }
  out = out.replace(GENERIC_ASSIGNMENT, (m: string, _k: string, value: string) => (isReferenceValue(value) || isPlaceholderSecret(value) ? m : m.replace(value, mask(value))));
  // unquoted `key: value` / `KEY=value` (YAML, .env, INI)
  out = out.replace(/([A-Za-z0-9_.-]*(?:secret|token|passw(?:or)?d|pass|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth)[A-Za-z0-9_.-]*["']?\s*[:=]\s*["']?)([^\s"'#,;]{12,})/gi, (m: string, pre: string, value: string) =>
    value.includes('…[REDACTED]') || isReferenceValue(value) || isPlaceholderSecret(value) || entropy(value) < 3 || value.includes('://') ? m : `${pre}${mask(value)}`,
  );
  // long opaque runs (base64/hex) that look like key material
  out = out.replace(/[A-Za-z0-9+/_-]{40,}={0,2}/g, (m) => (entropy(m) > 4.3 && !/^[a-z-]+$/i.test(m) && !DOC_EXAMPLES.some((d) => m.includes(d)) ? mask(m) : m));
  return out;
}

function mask(secret: string): string {
  const keep = /^(ghp_|gho_|ghs_|ghu_|ghr_|github_pat_|xox[a-z]-|sk-ant-|sk-proj-|sk-|npm_|AKIA|ASIA|AIza|glpat-|hf_|sk_live_)/.exec(secret)?.[0] ?? secret.slice(0, 2);
  return `${keep}…[REDACTED]`;
}
