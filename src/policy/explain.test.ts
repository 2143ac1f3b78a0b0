import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadPolicyFile, loadPolicyText } from './index.js';
import { explainPolicy, renderExplanation } from './explain.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/policies/valid/', import.meta.url));

test('explain --json lists isolation, files, programs, hosts, secrets, env and review', () => {
  const e = explainPolicy(loadPolicyFile(join(fixtures, 'full.yaml')));
  assert.equal(e.isolation.backend, 'auto');
  assert.deepEqual(e.isolation.limits, { wallTime: '90m', memory: '2GiB', pids: '1024', cpus: '1.5', disk: '10GiB' });
  assert.equal(e.filesystem.workspace.mode, 'staged');
  assert.ok(e.filesystem.builtinDeny.includes('~/.ssh'));
  assert.equal(e.commands.restricted, true);
  assert.ok(e.commands.allow.includes('cargo'));
  assert.deepEqual(e.commands.deny, ['git push --force*', 'npm publish*']);
  const gh = e.network.allow.find((r) => r.host === 'api.github.com')!;
  assert.deepEqual(gh, { host: 'api.github.com', kind: 'exact', ports: [443], methods: ['GET', 'POST'], paths: ['/repos/acme/*/pulls', '/repos/acme/app/**'] });
  assert.deepEqual(e.network.allow.find((r) => r.host === 'pypi.org')!.ports, [443]);
  assert.equal(e.network.allow.find((r) => r.host === '[2001:db8::1]')!.ports[0], 8443);
  const token = e.secrets.find((s) => s.name === 'GITHUB_TOKEN')!;
  assert.equal(token.injectHost, 'api.github.com');
  assert.equal(token.header, 'Authorization');
  assert.equal(token.ttl, '45m');
  assert.equal(token.renew, true);
  assert.equal(e.secrets.find((s) => s.name === 'ANTHROPIC_API_KEY')!.ttl, 'session');
  assert.deepEqual(e.env.pass, ['TERM', 'LANG']);
  assert.equal(e.review.approvals.critical, 3);
  assert.ok(e.warnings.some((w) => /pythonhosted/.test(w)));
  JSON.parse(JSON.stringify(e));
});

test('the text names what the agent may read, write, run, reach and which secrets go where', () => {
  const text = renderExplanation(explainPolicy(loadPolicyFile(join(fixtures, 'design-sketch.yaml'))));
  for (const needle of [/Isolation: gvisor/, /wallTime 2h, memory 4GiB, pids 512/, /staged/, /~\/\.gitconfig/, /May run only: git, node, npm, sh, rg/, /git push --force\*/, /api\.github\.com — ports 443, 80; GET\/POST; paths \/repos\/acme\/app\/\*\*/, /GITHUB_TOKEN from env:GITHUB_TOKEN: only toward api\.github\.com; the proxy sets header Authorization: Bearer <value>\. Valid for 30m/, /approvals required — low 0, medium 1, high 2, critical 2/]) {
    assert.match(text, needle);
  }
});

test('a policy with nothing declared says: no network, no secrets, and warns about open commands', () => {
  const e = explainPolicy(loadPolicyText('version: 1\n', '/w/airlock.yaml'), '/w');
  assert.equal(e.network.allowed, false);
  assert.equal(e.commands.restricted, false);
  assert.equal(e.filesystem.workspace.path, '/w');
  const text = renderExplanation(e);
  assert.match(text, /No network access at all/);
  assert.match(text, /Secrets[^\n]*\n {2}None\./);
  assert.match(text, /commands\.allow is not set/);
});

test('explain never reads secret values', () => {
  process.env.AIRLOCK_EXPLAIN_TEST_SECRET = 'sk-live-should-never-appear';
  const p = loadPolicyText('version: 1\nnetwork: { allow: [a.example.com] }\nsecrets:\n  AIRLOCK_EXPLAIN_TEST_SECRET: { from: env:AIRLOCK_EXPLAIN_TEST_SECRET, inject: { host: a.example.com, header: X-Key } }\n', '/w/airlock.yaml');
  const e = explainPolicy(p);
  assert.doesNotMatch(JSON.stringify(e) + renderExplanation(e), /sk-live/);
  delete process.env.AIRLOCK_EXPLAIN_TEST_SECRET;
});
