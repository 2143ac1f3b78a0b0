/**
 * A prompt-injected agent plants a git hook and points core.hooksPath somewhere it controls. The
 * hook must never reach the user's repository (`.git` internals are never applied), and the
 * attempt must be evidence on every backend: a `file` `write` event per hook/config in the signed
 * log (computed from the staged workspace, so bwrap — whose tracer sees only execs — has it too),
 * which `airlock score` reports as untracked changes to git hooks/config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020Module from 'ajv/dist/2020.js';

type AjvClass = typeof Ajv2020Module.default;
const Ajv2020: AjvClass = (Ajv2020Module as unknown as { default: AjvClass }).default;

const AIRLOCK = fileURLToPath(new URL('../../../bin/airlock', import.meta.url));
const SCHEMA = fileURLToPath(new URL('../../../schema/audit-event.schema.json', import.meta.url));
const AGENT = 'printf "#!/bin/sh\\necho pwned > /tmp/hook-ran\\n" > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit && git config core.hooksPath .githooks && echo "fix" > fix.txt';

for (const backend of ['gvisor', 'bwrap'] as const) {
  test(`${backend}: a planted git hook and core.hooksPath never reach the repository and are logged and scored`, { timeout: 90_000 }, (t) => {
    const bin = backend === 'gvisor' ? 'runsc' : 'bwrap';
    if (spawnSync(bin, ['--version']).status !== 0) return t.skip(`${bin} is not installed`);
    if (spawnSync('git', ['--version']).status !== 0) return t.skip('git is not installed');
    const dir = mkdtempSync(join(tmpdir(), `airlock-hook-${backend}-`));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const repo = join(dir, 'repo');
    const env = { ...process.env, AIRLOCK_HOME: join(dir, 'state'), HOME: join(dir, 'home'), GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
    const git = (...a: string[]) => spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...a], { cwd: repo, env, encoding: 'utf8' });
    spawnSync('git', ['init', '-q', '-b', 'main', repo]);
    writeFileSync(join(repo, 'README.md'), 'hello\n');
    git('add', '.');
    git('commit', '-qm', 'base');
    const configBefore = readFileSync(join(repo, '.git/config'), 'utf8');
    writeFileSync(join(dir, 'airlock.yaml'), 'version: 1\nfilesystem: { workspace: ./repo }\ncommands: { allow: [sh, git, printf, chmod, echo] }\n');
    const airlock = (...a: string[]) => spawnSync(process.execPath, [AIRLOCK, ...a], { cwd: repo, env, encoding: 'utf8', timeout: 60_000 });

    const run = airlock('run', '--policy', join(dir, 'airlock.yaml'), '--backend', backend, '--', 'sh', '-c', AGENT);
    assert.equal(run.status, 0, run.stderr);
    const shown = airlock('log', 'show', 'last', '--json');
    assert.equal(shown.status, 0, shown.stderr);
    const events = JSON.parse(shown.stdout) as { kind: string; action: string; subject: string; detail: Record<string, unknown> }[];
    const gitWrites = events.filter((e) => e.kind === 'file' && e.action === 'write' && e.detail.applied === false).map((e) => e.subject).sort();
    assert.deepEqual(gitWrites, ['.git/config', '.git/hooks/pre-commit'], JSON.stringify(events.filter((e) => e.kind === 'file')));
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, 'utf8')) as object);
    for (const e of events) assert.ok(validate(e), `${JSON.stringify(e)}: ${JSON.stringify(validate.errors)}`);

    const apply = airlock('apply', 'last', '--commit', '-m', 'agent fix');
    assert.equal(apply.status, 0, apply.stderr);
    assert.equal(existsSync(join(repo, '.git/hooks/pre-commit')), false, 'the hook never reached the repository');
    assert.equal(readFileSync(join(repo, '.git/config'), 'utf8'), configBefore, 'core.hooksPath never reached the repository');
    assert.equal(readFileSync(join(repo, 'fix.txt'), 'utf8'), 'fix\n');

    const score = airlock('score', '--base', 'HEAD~1', '--sessions', 'auto', '--format', 'json');
    assert.equal(score.status, 0, score.stderr);
    const found = (JSON.parse(score.stdout) as { findings: { id: string; severity: string; evidence: string }[] }).findings.find((f) => f.id === 'session/untracked-changes');
    assert.ok(found, score.stdout);
    assert.equal(found.severity, 'high');
    assert.match(found.evidence, /\.git\/hooks\/pre-commit/);
  });
}
