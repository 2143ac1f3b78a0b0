import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { findTokens, isSecretName, looksLikeSecretValue, redact, Redactor, shapeOf } from './secrets.js';

const r = (n: number, a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') => Array.from({ length: n }, (_, i) => a[(i * 7 + n) % a.length]).join('');

const SAMPLES: [string, string][] = [
  ['github-token', `ghp_${r(36)}`],
  ['github-token', `gho_${r(36)}`],
  ['github-token', `ghs_${r(36)}`],
  ['github-token', `ghu_${r(36)}`],
  ['github-fine-grained-pat', `github_pat_${r(22)}_${r(59)}`],
  ['aws-access-key', `AKIA${r(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`],
  ['aws-access-key', `ASIA${r(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`],
  ['openai-api-key', `sk-proj-${r(48)}`],
  ['openai-api-key', `sk-${r(48)}`],
  ['anthropic-api-key', `sk-ant-api03-${r(90)}`],
  ['slack-token', `xoxb-123456789012-123456789012-${r(24)}`],
  ['slack-token', `xoxp-123456789012-${r(30)}`],
  ['npm-token', `npm_${r(36)}`],
  ['gitlab-token', `glpat-${r(20)}`],
];

test('each credential family is recognised by its value shape', () => {
  for (const [kind, v] of SAMPLES) {
    assert.equal(shapeOf(v)?.kind, kind, v.slice(0, 6));
    const inText = findTokens(`export X="${v}" # and more`);
    assert.equal(inText.length, 1, kind);
    assert.equal(inText[0]!.value, v);
  }
  // a prefixed token longer than the family's usual length is still that token, even with a
  // body that looks nothing like random (found by the leak property test: npm_ + 37 × "A")
  for (const v of [`npm_${'A'.repeat(37)}`, `npm_${r(40)}`, `AIza${'A'.repeat(38)}`]) assert.deepEqual(findTokens(`args = ["srv", "${v}"]`).map((t) => t.value), [v]);
  const pem = `-----BEGIN OPENSSH PRIVATE KEY-----\n${r(70)}\n${r(70)}\n-----END OPENSSH PRIVATE KEY-----`;
  assert.equal(findTokens(`key:\n${pem}\n`)[0]!.shape.kind, 'private-key');
});

test('redact shows only the known prefix and the length', () => {
  assert.equal(redact(`ghp_${r(36)}`), 'ghp_…(40 chars)');
  assert.equal(redact(`github_pat_${r(22)}_${r(59)}`), 'github_pat_…(93 chars)');
  assert.equal(redact(`sk-ant-api03-${r(90)}`), 'sk-ant-api…(103 chars)');
  assert.equal(redact(`sk-proj-${r(48)}`), 'sk-proj-…(56 chars)');
  assert.equal(redact('hunter2hunter2'), '…(14 chars)');
});

test('redact never contains the value (property)', () => {
  const prefixes = ['', 'ghp_', 'sk-', 'sk-ant-', 'xoxb-', 'AKIA', 'npm_', 'glpat-', 'github_pat_'];
  fc.assert(
    fc.property(fc.constantFrom(...prefixes), fc.string({ minLength: 6, maxLength: 120 }), (p, body) => {
      const v = `${p}${body}`;
      if (v.trim().length < 8) return;
      assert.ok(!redact(v).includes(v.trim()));
    }),
    { numRuns: 500 },
  );
});

test('the redactor scrubs registered values, token shapes and context secrets from any text', () => {
  const red = new Redactor();
  const pw = 'plainPasswordWithNoShape42';
  red.register(pw);
  const gh = `ghp_${r(36)}`;
  const text = `login ${pw}; token ${gh}; curl -H "Authorization: Bearer abcDEF123456789xyz" https://u:s3cr3tpass@host/x; api_key=Zq8s7d6f5g4h3j2k`;
  const out = red.scrub(text);
  for (const s of [pw, gh, 'abcDEF123456789xyz', 's3cr3tpass', 'Zq8s7d6f5g4h3j2k']) assert.ok(!out.includes(s), `${s} scrubbed: ${out}`);
  assert.match(out, /ghp_…\(40 chars\)/);
  // Already-redacted text is stable (no double redaction).
  assert.equal(red.scrub(out), out);
  const deep = red.scrubDeep({ a: [text], [gh]: 1 });
  assert.ok(!JSON.stringify(deep).includes(gh));
});

test('secret variable names and placeholder values', () => {
  for (const n of ['GITHUB_TOKEN', 'OPENAI_API_KEY', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID', 'DB_PASSWORD', 'STRIPE_SECRET', 'NPM_AUTH']) assert.ok(isSecretName(n), n);
  for (const n of ['AWS_REGION', 'AWS_PROFILE', 'PATH', 'HOME', 'SSH_AUTH_SOCK', 'GOOGLE_APPLICATION_CREDENTIALS_FILE', 'KEYBOARD', 'TOKEN_URL']) assert.ok(!isSecretName(n), n);
  for (const v of ['${GITHUB_TOKEN}', '$NPM_TOKEN', '${{ secrets.X }}', '${env:API_KEY}', 'changeme', 'your-key-here', '<token>', 'short', 'xxxxxxxx', 'true']) assert.ok(!looksLikeSecretValue(v), v);
  assert.ok(looksLikeSecretValue('q8Zr5tYw2LmN'));
});
