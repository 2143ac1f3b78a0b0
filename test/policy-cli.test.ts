/** `airlock init`, `explain`, `schema` and `doctor` through the real CLI (bin/airlock). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin/airlock');

function airlock(args: string[], cwd = root): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('airlock init writes a valid, commented policy with a $schema line; refuses to overwrite without --force', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-init-cli-'));
  try {
    writeFileSync(join(dir, 'package.json'), '{}');
    writeFileSync(join(dir, 'requirements.txt'), '');
    const r = await airlock(['init', '--agent', 'codex'], dir);
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir, 'airlock.yaml');
    const text = readFileSync(file, 'utf8');
    assert.match(text.split('\n')[0]!, /^# yaml-language-server: \$schema=\S+airlock\.schema\.json$/);
    assert.match(text, /registry\.npmjs\.org/);
    assert.match(text, /files\.pythonhosted\.org/);
    assert.match(text, /CODEX_API_KEY:\n {4}from: env:CODEX_API_KEY/);
    const check = await airlock(['check', file]);
    assert.equal(check.code, 0, check.stderr);

    writeFileSync(file, 'version: 1\n# mine\n');
    const again = await airlock(['init'], dir);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
    assert.match(again.stderr, /--force/);
    assert.equal(readFileSync(file, 'utf8'), 'version: 1\n# mine\n', 'the existing file is untouched');

    const forced = await airlock(['init', '--force', '--agent', 'gemini', '--dir', dir], root);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(readFileSync(file, 'utf8'), /x-goog-api-key/);

    const other = await airlock(['init', '--output', join(dir, 'other.yaml'), '--dir', dir]);
    assert.equal(other.code, 0, other.stderr);
    assert.equal((await airlock(['check', join(dir, 'other.yaml')])).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('airlock init rejects an unknown agent and unknown flags with exit 2', async () => {
  assert.equal((await airlock(['init', '--agent', 'copilot', '--output', '-'])).code, 2);
  assert.equal((await airlock(['init', '--bogus'])).code, 2);
});

test('airlock explain prints the summary and --json parses', async () => {
  const file = 'test/fixtures/policies/valid/design-sketch.yaml';
  const text = await airlock(['explain', file]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /api\.github\.com/);
  assert.match(text.stdout, /GITHUB_TOKEN/);
  const json = await airlock(['explain', '--json', file]);
  assert.equal(json.code, 0);
  const e = JSON.parse(json.stdout) as { secrets: { name: string; injectHost: string }[] };
  assert.deepEqual(e.secrets.map((s) => [s.name, s.injectHost]), [['GITHUB_TOKEN', 'api.github.com']]);
  const bad = await airlock(['explain', 'test/fixtures/policies/invalid/05-bad-host-pattern.yaml']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /policy\.network\.allow\[1\]\.host/);
});

test('airlock schema prints the committed JSON Schema', async () => {
  const r = await airlock(['schema']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(join(root, 'schema/airlock.schema.json'), 'utf8'));
  assert.equal((JSON.parse(r.stdout) as { $schema: string }).$schema, 'https://json-schema.org/draft/2020-12/schema');
});

test('airlock doctor --json reports backends and exits 0 when one works', { timeout: 90_000 }, async () => {
  const r = await airlock(['doctor', '--json']);
  const report = JSON.parse(r.stdout) as { strongest: string | null; backends: { name: string; available: boolean }[] };
  assert.deepEqual(report.backends.map((b) => b.name), ['gvisor', 'bwrap', 'microvm']);
  assert.equal(r.code, report.strongest ? 0 : 1);
});
