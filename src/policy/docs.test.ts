import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadPolicyText } from './index.js';
import { DOCS_FILE, renderPolicyDocs } from './docs.js';

test('docs/policy.md is up to date (regenerate: npm run build && node scripts/gen-policy-docs.mjs)', () => {
  assert.equal(readFileSync(DOCS_FILE, 'utf8'), renderPolicyDocs());
});

test('the reference documents every key with its description', () => {
  const md = renderPolicyDocs();
  for (const key of ['runtime.limits.wallTime', 'filesystem.deny', 'commands.deny', 'network.allow[].paths', 'secrets.<NAME>.inject', 'secrets.<NAME>.inject.header', 'secrets.<NAME>.ttl', 'env.pass', 'review.approvals']) {
    assert.match(md, new RegExp(`\\| \`${key.replace(/[.[\]<>]/g, '\\$&')}\` \\| [^|]+ \\| \\S`), key);
  }
});

test('every yaml example in the docs is a valid policy', () => {
  const md = renderPolicyDocs();
  const blocks = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 3);
  for (const b of blocks) loadPolicyText(b, '/repo/airlock.yaml');
});
