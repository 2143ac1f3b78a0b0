/** `bin/airlock score` end to end: real git repositories, real processes, every output format and exit code. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'bin/airlock');
const corpus = join(root, 'test/fixtures/prs');

function airlock(args: string[], opts: { input?: string | Buffer; cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [bin, 'score', ...args], { input: opts.input, cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout.toString(), err: r.stderr.toString() };
}

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('--diff FILE --format json: the documented interface', () => {
  const r = airlock(['--diff', join(corpus, 'nx-s1ngularity-postinstall.diff'), '--format', 'json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.level, 'critical');
  assert.ok(j.score > 0 && j.score <= 100);
  assert.ok(j.decomposition.byCategory['install-scripts']);
  assert.deepEqual(j.review, { level: 'critical', approvals: 2, labels: ['risk:critical', 'security-review'] });
  for (const f of j.findings) for (const k of ['id', 'category', 'severity', 'file', 'line', 'evidence', 'why', 'fix']) assert.ok(k in f);
});

test('--diff - reads stdin; --fail-on sets exit 1 at or above the level, 0 below', () => {
  const diff = readFileSync(join(corpus, 'workflow-write-all.diff'));
  assert.equal(airlock(['--diff', '-', '--fail-on', 'high'], { input: diff }).code, 1);
  assert.equal(airlock(['--diff', '-', '--fail-on', 'critical'], { input: diff }).code, 0);
  const benign = readFileSync(join(corpus, 'benign-workflow-step-rename.diff'));
  const r = airlock(['--diff', '-', '--fail-on', 'medium'], { input: benign });
  assert.equal(r.code, 0);
  assert.match(r.out, /^risk: LOW/);
});

test('a bad diff exits 2 with a message naming the line; bad flags exit 2', () => {
  const r = airlock(['--diff', '-'], { input: 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\nnot a hunk line\n' });
  assert.equal(r.code, 2);
  assert.match(r.err, /diff line 6: hunk of x ended early/);
  assert.doesNotMatch(r.err, /at .*\.js:\d+/); // no stack trace
  assert.equal(airlock(['--diff', '-'], { input: Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]) }).code, 2);
  assert.equal(airlock(['--format', 'xml', '--diff', '-'], { input: '' }).code, 2);
  assert.equal(airlock(['--fail-on', 'severe', '--diff', '-'], { input: '' }).code, 2);
  assert.equal(airlock([]).code, 2);
  assert.equal(airlock(['--diff', '/nonexistent/pr.diff']).code, 2);
});

test('--base/--head scores a real git range; nothing from the PR runs (textconv and external diff are off)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-score-e2e-'));
  try {
    git(dir, 'init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'README.md'), '# app\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'base');
    git(dir, 'checkout', '-qb', 'pr');
    const marker = join(dir, 'PWNED');
    // a PR that tries to make the scorer's git run its code through a textconv driver
    writeFileSync(join(dir, '.gitattributes'), '*.txt diff=evil\n');
    git(dir, 'config', 'diff.evil.textconv', `sh -c 'touch ${marker}; cat "$1"' --`);
    writeFileSync(join(dir, 'notes.txt'), 'hello\n');
    mkdirSync(join(dir, '.vscode'));
    writeFileSync(join(dir, '.vscode/tasks.json'), '{\n  "tasks": [{ "command": "node x.js", "runOptions": { "runOn": "folderOpen" } }]\n}\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'pr');
    const r = airlock(['--base', 'main', '--head', 'pr', '--repo', dir, '--format', 'json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.level, 'critical');
    assert.equal(j.summary.files, 3);
    assert.equal(existsSync(marker), false, 'git textconv from the repository ran during scoring');
    const bad = airlock(['--base', 'no-such-ref', '--repo', dir]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /git diff no-such-ref\.\.\.HEAD failed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--policy sets approvals and labels from its review section; markdown and sarif formats render', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-score-policy-'));
  try {
    const policy = join(dir, 'airlock.yaml');
    writeFileSync(policy, 'version: 1\nreview:\n  approvals: { low: 0, medium: 1, high: 3, critical: 4 }\n  labels: { critical: ["needs-security"] }\n');
    const diff = join(corpus, 'secrets-tojson-dump.diff');
    const j = JSON.parse(airlock(['--diff', diff, '--policy', policy, '--format', 'json']).out);
    assert.deepEqual(j.review, { level: 'critical', approvals: 4, labels: ['needs-security'] });
    const md = airlock(['--diff', diff, '--format', 'markdown']).out;
    assert.match(md, /^<!-- airlock-score -->/);
    assert.match(md, /<details>/);
    const s = JSON.parse(airlock(['--diff', diff, '--format', 'sarif']).out);
    assert.equal(s.version, '2.1.0');
    assert.ok(s.runs[0].results.length >= 1);
    writeFileSync(policy, 'version: 1\nreview:\n  approvals: { extreme: 9 }\n');
    assert.equal(airlock(['--diff', diff, '--policy', policy]).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
