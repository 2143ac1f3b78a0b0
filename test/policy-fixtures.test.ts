/**
 * Every policy under test/fixtures/policies/ goes through the real CLI (`bin/airlock check`):
 * valid ones exit 0; invalid ones exit 2 and print `file:line:col: policy.<key path>: ...` exactly
 * as their first line `# expect: <key path|-> <line>:<col> <words of the message>` says, with no
 * stack trace.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin/airlock');
const dir = join(root, 'test/fixtures/policies');

function airlock(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd: root, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const invalid = readdirSync(join(dir, 'invalid')).filter((f) => f.endsWith('.yaml')).sort();
const valid = readdirSync(join(dir, 'valid')).filter((f) => f.endsWith('.yaml')).sort();

test('there are enough fixtures', () => {
  assert.ok(invalid.length >= 15, `${invalid.length} invalid fixtures`);
  assert.ok(valid.length >= 3);
});

describe('invalid fixtures', { concurrency: 4 }, () => {
for (const name of invalid) {
  test(`airlock check rejects invalid/${name} with exit 2 at the right key and place`, async () => {
    const file = `test/fixtures/policies/invalid/${name}`;
    const header = /^# expect: (\S+) (\d+):(\d+) (.+)$/m.exec(readFileSync(join(root, file), 'utf8'));
    assert.ok(header, `${name} lacks an "# expect:" first line`);
    const [, path, line, col, words] = header;
    const r = await airlock(['check', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
    const lines = r.stderr.split('\n');
    const prefix = `${file}:${line}:${col}: ${path === '-' ? '' : `policy.${path}: `}`;
    const hit = lines.find((l) => l.replace(/^airlock check: /, '').startsWith(prefix));
    assert.ok(hit, `expected a line starting with "${prefix}" in:\n${r.stderr}`);
    assert.ok(hit.toLowerCase().includes(words!.toLowerCase()), `"${words}" not in: ${hit}`);
  });
}
});

describe('valid fixtures', { concurrency: 4 }, () => {
for (const name of valid) {
  test(`airlock check accepts valid/${name}`, async () => {
    const r = await airlock(['check', `test/fixtures/policies/valid/${name}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: ok/);
  });
}
});

test('airlock check --json reports ok with the digest', async () => {
  const r = await airlock(['check', '--json', 'test/fixtures/policies/valid/minimal.yaml']);
  assert.equal(r.code, 0);
  const out = JSON.parse(r.stdout) as { ok: boolean; digest: string };
  assert.equal(out.ok, true);
  assert.match(out.digest, /^[0-9a-f]{64}$/);
});

test('airlock check on a missing file exits 2 and hints at init', async () => {
  const r = await airlock(['check', 'test/fixtures/policies/none.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no such policy file/);
  assert.match(r.stderr, /airlock init/);
});

test('airlock check --json on an invalid policy prints the problems as JSON and exits 2', async () => {
  const r = await airlock(['check', '--json', 'test/fixtures/policies/invalid/04-unknown-nested-key.yaml']);
  assert.equal(r.code, 2);
  const out = JSON.parse(r.stdout) as { ok: boolean; problems: { path: string; line: number; col: number }[] };
  assert.equal(out.ok, false);
  assert.deepEqual(out.problems.map((p) => [p.path, p.line, p.col]), [['policy.network.allow[1].metods', 7, 7]]);
});
