import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { loadPolicyFile, loadPolicyText, PolicyError, type PolicyProblem } from './index.js';

/** Loads `text` and returns the problems it must raise (fails the test when it loads). */
function problems(text: string): PolicyProblem[] {
  try {
    loadPolicyText(text, '/work/p/airlock.yaml', 'airlock.yaml');
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected PolicyError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.equal(err.code, 'policy-invalid');
    return err.problems;
  }
  assert.fail('the policy loaded but should not have');
}

/** The one problem at `path`, with its position and message. */
function one(text: string, path: string): PolicyProblem {
  const ps = problems(text);
  const p = ps.find((x) => x.path === path);
  assert.ok(p, `no problem at ${path}; got ${JSON.stringify(ps)}`);
  return p;
}

function messageOf(text: string): string {
  try {
    loadPolicyText(text, '/work/p/airlock.yaml', 'airlock.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

test('bad YAML is reported at the line and column where parsing failed', () => {
  const p = problems('version: 1\ncommands: { allow: [git, node }\n')[0]!;
  assert.match(p.message, /invalid YAML/);
  assert.deepEqual([p.line, p.col], [2, 31]);
  assert.match(messageOf('version: 1\ncommands: { allow: [git, node }\n'), /^airlock\.yaml:2:31: invalid YAML/);
});

test('a wrong type names the key path, the position of the value and what was given', () => {
  const p = one('version: 1\nruntime:\n  limits: { pids: lots }\n', 'runtime.limits.pids');
  assert.deepEqual([p.line, p.col], [3, 19]);
  assert.match(p.message, /expected a number, got "lots"/);
  assert.match(messageOf('version: 1\nruntime:\n  limits: { pids: lots }\n'), /^airlock\.yaml:3:19: policy\.runtime\.limits\.pids: /);
});

test('a section given as a scalar is a wrong type, not a crash', () => {
  const p = one('version: 1\nnetwork: yes\n', 'network');
  assert.match(p.message, /expected a mapping/);
  assert.deepEqual([p.line, p.col], [2, 10]);
});

test('an unknown top-level key points at the key and suggests the close one', () => {
  const p = one('version: 1\nnetwrok: {}\n', 'netwrok');
  assert.deepEqual([p.line, p.col], [2, 1]);
  assert.match(p.hint!, /did you mean "network"/);
});

test('an unknown nested key inside a list item names its full path', () => {
  const text = 'version: 1\nnetwork:\n  allow:\n    - a.example.com\n    - host: b.example.com\n      metods: [GET]\n';
  const p = one(text, 'network.allow[1].metods');
  assert.deepEqual([p.line, p.col], [6, 7]);
  assert.match(p.hint!, /did you mean "methods"/);
  assert.match(messageOf(text), /policy\.network\.allow\[1\]\.metods: unknown key "metods"/);
});

test('an unknown key inside a secret and inside inject are reported', () => {
  const text = 'version: 1\nnetwork: { allow: [a.example.com] }\nsecrets:\n  T:\n    from: env:T\n    tll: 5m\n    inject: { host: a.example.com, heder: X }\n';
  const ps = problems(text);
  const ttl = ps.find((p) => p.path === 'secrets.T.tll')!;
  assert.deepEqual([ttl.line, ttl.col], [6, 5]);
  assert.match(ttl.hint!, /did you mean "ttl"/);
  const header = ps.find((p) => p.path === 'secrets.T.inject.heder')!;
  assert.deepEqual([header.line, header.col], [7, 36]);
});

test('a bad host pattern names the rule and says why', () => {
  const text = 'version: 1\nnetwork:\n  allow:\n    - ok.example.com\n    - { host: "*.", methods: [GET] }\n';
  const p = one(text, 'network.allow[1].host');
  assert.deepEqual([p.line, p.col], [5, 15]);
  assert.match(p.message, /not a valid host pattern/);
  for (const bad of ['https://x.example.com', 'a.*.example.com', '*', '*.com', 'x.example.com:0', 'x.example.com:99999', '0x7f000001', '1.2.3.4/40', 'a b.com', 'user@x.com', '-bad-.example.com']) {
    one(`version: 1\nnetwork: { allow: ["${bad}"] }\n`, 'network.allow[0]');
  }
});

test('a bad duration and a bad size are reported with a hint', () => {
  const d = one('version: 1\nruntime: { limits: { wallTime: 2 hours } }\n', 'runtime.limits.wallTime');
  assert.deepEqual([d.line, d.col], [2, 32]);
  assert.match(d.hint!, /90s, 30m, 2h/);
  const s = one('version: 1\nruntime: { limits: { memory: 4 gigs } }\n', 'runtime.limits.memory');
  assert.deepEqual([s.line, s.col], [2, 30]);
  assert.match(s.hint!, /512MiB/);
  for (const bad of ['0s', '-5m', '5', 'm', '2y', '1000d', '']) one(`version: 1\nruntime: { limits: { wallTime: "${bad}" } }\n`, 'runtime.limits.wallTime');
  for (const bad of ['0', '4XB', 'GiB', '-1MiB', '1e3']) one(`version: 1\nruntime: { limits: { memory: "${bad}" } }\n`, 'runtime.limits.memory');
  one('version: 1\nruntime: { limits: { memory: -5 } }\n', 'runtime.limits.memory');
});

test('a duplicate key is reported at the second occurrence with its key path', () => {
  const p = one('version: 1\nnetwork: { allow: [a.example.com] }\nnetwork: {}\n', 'network');
  assert.deepEqual([p.line, p.col], [3, 1]);
  assert.match(p.message, /duplicate key "network"/);
});

test('a duplicate secret (same name twice) is reported as such', () => {
  const sec = '{ from: env:T, inject: { host: a.example.com } }';
  const p = one(`version: 1\nnetwork: { allow: [a.example.com] }\nsecrets:\n  T: ${sec}\n  T: ${sec}\n`, 'secrets.T');
  assert.deepEqual([p.line, p.col], [5, 3]);
  assert.match(p.message, /duplicate secret "T"/);
});

test('secrets whose names differ only in case are duplicates', () => {
  const sec = '{ from: env:T, inject: { host: a.example.com } }';
  const p = one(`version: 1\nnetwork: { allow: [a.example.com] }\nsecrets:\n  TOKEN: ${sec}\n  token: ${sec}\n`, 'secrets.token');
  assert.deepEqual([p.line, p.col], [5, 3]);
  assert.match(p.message, /differ only in case/);
});

test('unsafe combinations are errors with their location', () => {
  const net = 'network: { allow: [a.example.com] }\n';
  const cases: [string, string, [number, number], RegExp][] = [
    [`version: 1\n${net}secrets:\n  T: { from: env:T, inject: { host: b.example.com } }\n`, 'secrets.T.inject.host', [4, 37], /network\.allow does not allow/],
    [`version: 1\n${net}secrets:\n  T: { from: env:T, inject: { host: a.example.com } }\nenv: { pass: [T] }\n`, 'env.pass[0]', [5, 15], /unsafe/],
    [`version: 1\n${net}secrets:\n  T: { from: env:T, inject: { host: a.example.com } }\nenv: { set: { T: x } }\n`, 'env.set.T', [5, 15], /declared under secrets/],
    ['version: 1\nfilesystem: { write: ["/"] }\n', 'filesystem.write[0]', [2, 23], /whole host filesystem/],
    ['version: 1\nfilesystem: { write: ["~"] }\n', 'filesystem.write[0]', [2, 23], /home directory/],
    ['version: 1\nfilesystem: { read: [~/.aws/credentials] }\n', 'filesystem.read[0]', [2, 22], /built-in deny list/],
    ['version: 1\nnetwork: { allow: [0.0.0.0/0] }\n', 'network.allow[0]', [2, 20], /every address/],
    ['version: 1\nnetwork: { allow: [{ host: "::/0" }] }\n', 'network.allow[0].host', [2, 28], /every address/],
    ['version: 1\nenv: { pass: [HTTP_PROXY] }\n', 'env.pass[0]', [2, 15], /managed by airlock/],
    ['version: 1\nenv: { set: { NODE_EXTRA_CA_CERTS: /x.pem } }\n', 'env.set.NODE_EXTRA_CA_CERTS', [2, 15], /managed by airlock/],
    [`version: 1\n${net}secrets:\n  T: { inject: { host: a.example.com } }\n`, 'secrets.T', [4, 6], /needs a source/],
    [`version: 1\n${net}secrets:\n  T: { from: env:T, renew: true, inject: { host: a.example.com } }\n`, 'secrets.T.renew', [4, 28], /cmd:/],
    [`version: 1\n${net}secrets:\n  T: { from: env:T, inject: { host: a.example.com, format: "x{}" } }\n`, 'secrets.T.inject.format', [4, 60], /needs `header`/],
    ['version: 1\ncommands: { allow: [bin/sh] }\n', 'commands.allow[0]', [2, 21], /absolute path/],
  ];
  for (const [text, path, [line, col], re] of cases) {
    const p = one(text, path);
    assert.match(p.message, re, path);
    assert.deepEqual([p.line, p.col], [line, col], `${path} position`);
  }
});

test('every problem is reported, not just the first', () => {
  const ps = problems('version: 2\nruntime: { isolation: docker }\nnetwork: { allow: ["*"] }\nextra: 1\n');
  assert.deepEqual(ps.map((p) => p.path).sort(), ['extra', 'network.allow[0]', 'runtime.isolation', 'version']);
});

test('document-level problems: empty, not a mapping, several documents, complex keys', () => {
  assert.match(problems('')[0]!.message, /empty/);
  assert.match(problems('# only a comment\n')[0]!.message, /empty/);
  assert.match(problems('- version: 1\n')[0]!.message, /must be a mapping/);
  assert.match(problems('just text')[0]!.message, /must be a mapping/);
  assert.match(problems('version: 1\n---\nversion: 1\n')[0]!.message, /invalid YAML/);
  const c = problems('version: 1\n? [a]\n: 1\n')[0]!;
  assert.match(c.message, /plain word/);
  assert.deepEqual([c.line, c.col], [2, 3]);
  assert.match(problems('version: 1\nnetwork: *nope\n')[0]!.message, /./);
  const proto = one('version: 1\nenv:\n  set: { __proto__: x }\n', 'env.set.__proto__');
  assert.deepEqual([proto.line, proto.col], [3, 10]);
  one('version: 1\nnetwork: { allow: [a.example.com] }\nsecrets:\n  __proto__: { from: env:A, inject: { host: a.example.com } }\n', 'secrets.__proto__');
});

test('alias bombs are refused instead of expanding', () => {
  const lines = ['version: 1', 'a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  assert.ok(problems(`${lines.join('\n')}\n`).length >= 1);
});

test('the valid DESIGN.md sketch compiles: paths resolved, ~ expanded, units parsed, matchers built', () => {
  const text = [
    'version: 1',
    'runtime: { isolation: gvisor, limits: { wallTime: 2h, memory: 4GiB, pids: 512 } }',
    'filesystem:',
    '  workspace: .',
    '  read: [~/.gitconfig]',
    '  deny: [~/.ssh, ~/.aws, "**/.env"]',
    'commands:',
    '  allow: [git, node, npm, sh, rg]',
    '  deny: ["git push --force*"]',
    'network:',
    '  allow:',
    '    - registry.npmjs.org',
    '    - { host: api.github.com, methods: [GET, POST], paths: ["/repos/acme/app/**"] }',
    'secrets:',
    '  GITHUB_TOKEN:',
    '    from: env:GITHUB_TOKEN',
    '    inject: { host: api.github.com, header: Authorization, format: "Bearer {}" }',
    '    ttl: 30m',
    'review: { approvals: { low: 0, medium: 1, high: 2, critical: 2 } }',
  ].join('\n');
  const p = loadPolicyText(text, '/work/p/airlock.yaml');
  assert.equal(p.runtime.isolation, 'gvisor');
  assert.deepEqual(p.runtime.limits, { wallTimeMs: 7_200_000, memoryBytes: 4 * 2 ** 30, pids: 512, cpus: undefined, diskBytes: undefined });
  assert.equal(p.filesystem.workspace, '/work/p');
  assert.deepEqual(p.filesystem.read, [join(homedir(), '.gitconfig')]);
  assert.deepEqual(p.filesystem.deny, [join(homedir(), '.ssh'), join(homedir(), '.aws'), '**/.env']);
  assert.ok(p.commands.deny[0]!.re.test('git push --force-with-lease origin main'));
  assert.ok(!p.commands.deny[0]!.re.test('git push origin main'));
  assert.equal(p.network.allow[1]!.paths![0]!.re.test('/repos/acme/app/pulls/1'), true);
  assert.equal(p.network.allow[1]!.paths![0]!.re.test('/repos/acme/other'), false);
  assert.deepEqual(p.network.allow[1]!.methods, ['GET', 'POST']);
  assert.equal(p.secrets[0]!.ttlMs, 30 * 60_000);
  assert.deepEqual(p.secrets[0]!.source, { kind: 'env', name: 'GITHUB_TOKEN' });
  assert.equal(p.review.approvals.medium, 1);
  assert.match(p.source.digest, /^[0-9a-f]{64}$/);
});

test('partial approvals and labels keep the defaults for the other levels', () => {
  const p = loadPolicyText('version: 1\nreview: { approvals: { high: 3 }, labels: { critical: [stop] } }\n', '/work/p/airlock.yaml');
  assert.deepEqual(p.review.approvals, { low: 0, medium: 1, high: 3, critical: 2 });
  assert.deepEqual(p.review.labels.critical, ['stop']);
  assert.deepEqual(p.review.labels.low, []);
});

test('loadPolicyFile names a missing file and hints at init', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-load-'));
  assert.throws(() => loadPolicyFile(join(dir, 'nope.yaml')), (err: unknown) => err instanceof PolicyError && /no such policy file/.test(err.message) && /airlock init/.test(err.problems[0]!.hint!));
  writeFileSync(join(dir, 'airlock.yaml'), 'version: 1\nfilesystem: { workspace: sub }\n');
  assert.equal(loadPolicyFile(join(dir, 'airlock.yaml')).filesystem.workspace, join(dir, 'sub'));
});

test('a bad secret name points at the name itself', () => {
  const p = one('version: 1\nnetwork: { allow: [a.example.com] }\nsecrets:\n  bad-name: { from: env:X, inject: { host: a.example.com } }\n', 'secrets.bad-name');
  assert.deepEqual([p.line, p.col], [4, 3]);
  assert.match(p.message, /environment variable name/);
});

test('out-of-range numbers say the bound and what was given; one problem per key', () => {
  const ps = problems('version: 1\nruntime: { limits: { memory: 0, pids: -1 } }\n');
  assert.deepEqual(ps.map((p) => p.path), ['runtime.limits.memory', 'runtime.limits.pids']);
  assert.match(ps[1]!.message, /must be ≥ 1, got number -1/);
});

test('env.set accepts numbers and booleans as text', () => {
  const p = loadPolicyText('version: 1\nenv: { set: { CI: 1, DEBUG: true, NAME: x } }\n', '/w/airlock.yaml');
  assert.deepEqual(p.env.set, { CI: '1', DEBUG: 'true', NAME: 'x' });
});
