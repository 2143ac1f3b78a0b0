/**
 * Attacks on `airlock apply`: an agent (or a changed tree) tries to make apply write outside the
 * repository or into places it must never write. Each test shows the attempt fails and that the
 * outside directory is byte-for-byte unchanged.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { applyChangeList, sessionChanges } from '../../src/workspace/index.js';
import { takeManifest } from '../../src/workspace/manifest.js';
import type { StagedChange } from '../../src/workspace/changes.js';
import { airlock, cleanupAll, endSession, hasGit, makeRepo, newSession, snapshot, tmp } from '../e2e/workspace-fixture.js';

let home: string;
let outside: string;
before(() => {
  home = tmp('home');
  process.env.AIRLOCK_HOME = home;
});
after(() => cleanupAll());

function makeOutside(): string {
  outside = tmp('outside');
  writeFileSync(join(outside, 'secret.txt'), 'host secret\n');
  mkdirSync(join(outside, 'sub'));
  return outside;
}

test('agent-created symlinks pointing outside are applied as symlinks; nothing is written through them', async (t) => {
  if (!hasGit()) return t.skip('git not installed');
  const repo = makeRepo();
  const out = makeOutside();
  const outBefore = snapshot(out);
  const s = await newSession(repo);
  const m = s.ws.merged;
  // Inside a sandbox these links resolve in the sandbox's view; on the host they point outside.
  symlinkSync(out, join(m, 'escape-dir'));
  symlinkSync(join(out, 'secret.txt'), join(m, 'escape-file'));
  // Replace a real directory of the tree by a symlink to the outside.
  spawnSync('rm', ['-rf', join(m, 'dir')]);
  symlinkSync(out, join(m, 'dir'));
  // And replace a tracked file by a symlink to an outside file.
  rmSync(join(m, 'keep.txt'));
  symlinkSync(join(out, 'secret.txt'), join(m, 'keep.txt'));
  await endSession(s);
  const a = airlock(['apply', s.id], home);
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(snapshot(out), outBefore, 'the outside directory is unchanged');
  for (const p of ['escape-dir', 'escape-file', 'dir', 'keep.txt']) assert.ok(lstatSync(join(repo, p)).isSymbolicLink(), `${p} is a symlink in the tree`);
  assert.equal(readlinkSync(join(repo, 'dir')), out);
  assert.equal(readFileSync(join(out, 'secret.txt'), 'utf8'), 'host secret\n');
});

test('a directory of the tree replaced by a symlink after the session cannot redirect apply outside', async (t) => {
  if (!hasGit()) return t.skip('git not installed');
  const repo = makeRepo();
  const out = makeOutside();
  const s = await newSession(repo);
  writeFileSync(join(s.ws.merged, 'dir/a.txt'), 'agent edit\n');
  writeFileSync(join(s.ws.merged, 'dir/planted.txt'), 'would land outside\n');
  await endSession(s);
  // Between session and apply, `dir` becomes a symlink to the outside (e.g. a hostile checkout).
  renameSync(join(repo, 'dir'), join(repo, 'dir.real'));
  symlinkSync(out, join(repo, 'dir'));
  writeFileSync(join(out, 'a.txt'), 'a\n');
  const outBefore = snapshot(out);
  const a = airlock(['apply', s.id], home);
  assert.equal(a.status, 1);
  assert.match(a.stderr, /refusing to apply/);
  assert.match(a.stderr, /^ {2}dir: changed in the tree since the session started$/m);
  assert.deepEqual(snapshot(out), outBefore, 'nothing written outside');
  assert.equal(existsSync(join(out, 'planted.txt')), false);
});

test('files of the tree hard-linked to outside files: apply replaces the links, never writes through them', async (t) => {
  if (!hasGit()) return t.skip('git not installed');
  const repo = makeRepo();
  const out = makeOutside();
  writeFileSync(join(out, 'shared-a.txt'), 'outside a\n', { mode: 0o644 });
  writeFileSync(join(out, 'shared-b.txt'), 'outside b\n', { mode: 0o644 });
  linkSync(join(out, 'shared-a.txt'), join(repo, 'hl-a.txt'));
  linkSync(join(out, 'shared-b.txt'), join(repo, 'hl-b.txt'));
  const outBefore = snapshot(out);
  const s = await newSession(repo);
  writeFileSync(join(s.ws.merged, 'hl-a.txt'), 'agent content\n');
  chmodSync(join(s.ws.merged, 'hl-b.txt'), 0o777);
  await endSession(s);
  const a = airlock(['apply', s.id], home);
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(snapshot(out), outBefore, 'outside files keep their content and mode');
  assert.equal(readFileSync(join(repo, 'hl-a.txt'), 'utf8'), 'agent content\n');
  assert.equal(lstatSync(join(repo, 'hl-b.txt')).mode & 0o777, 0o777);
  assert.equal(lstatSync(join(repo, 'hl-b.txt')).nlink, 1, 'the link was replaced by a file of its own');
});

test('hostile change lists (.., absolute, .git, a file under a symlink it creates) are refused before any write', (t) => {
  const repo = tmp('bare');
  const out = makeOutside();
  const src = join(tmp('src'), 'payload');
  writeFileSync(src, 'payload\n');
  const sha = '' + spawnSync('sha256sum', [src], { encoding: 'utf8' }).stdout.split(' ')[0];
  if (!/^[0-9a-f]{64}$/.test(sha)) return t.skip('sha256sum not available');
  writeFileSync(join(repo, 'keep.txt'), 'keep\n');
  symlinkSync(out, join(repo, 'lnk'));
  const baseline = takeManifest(repo);
  const file = (path: string): StagedChange => ({ kind: 'create', type: 'file', path, mode: 0o644, sha256: sha, size: 8, src });
  const cases: [string, StagedChange[], RegExp][] = [
    ['dot-dot', [file('../escape.txt')], /component "\.\."/],
    ['nested dot-dot', [file('a/../../escape.txt')], /component "\.\."/],
    ['absolute', [file(`${out}/abs.txt`)], /absolute path/],
    ['git hook', [file('.git/hooks/pre-commit')], /inside \.git/],
    ['nested .git', [file('vendor/.git/config')], /inside \.git/],
    ['NUL', [file('a\0b')], /NUL/],
    ['file under a symlink of the tree', [file('lnk/pwned.txt')], /lnk\/pwned\.txt: lnk is not a real directory/],
    ['file under a symlink it creates', [{ kind: 'create', type: 'symlink', path: 'ln', linkTarget: out, sha256: sha, size: 3 }, file('ln/pwned.txt')], /ancestor ln becomes a symlink/],
  ];
  const repoBefore = snapshot(repo);
  const outBefore = snapshot(out);
  for (const [name, list, why] of cases) {
    assert.throws(() => applyChangeList(repo, list, baseline, 'attack'), (err: Error) => {
      assert.match(err.message, /refusing to apply/, name);
      assert.match(err.message, why, name);
      return true;
    });
  }
  assert.deepEqual(snapshot(repo), repoBefore);
  assert.deepEqual(snapshot(out), outBefore);
  assert.equal(existsSync(join(repo, '..', 'escape.txt')), false);
  assert.equal(existsSync(join(out, 'abs.txt')), false);
  assert.equal(existsSync(join(repo, '.git')), false);
});

test('agent writes to .git (hooks, config) and special files never reach the tree; setuid bits are dropped', async (t) => {
  if (!hasGit()) return t.skip('git not installed');
  const repo = makeRepo();
  const cfg = readFileSync(join(repo, '.git/config'), 'utf8');
  const s = await newSession(repo);
  const m = s.ws.merged;
  writeFileSync(join(m, '.git/hooks/post-checkout'), '#!/bin/sh\ncurl evil\n', { mode: 0o755 });
  writeFileSync(join(m, '.git/config'), `${cfg}[core]\n\tfsmonitor = /tmp/evil\n`);
  mkdirSync(join(m, 'vendor/lib/.git'), { recursive: true });
  writeFileSync(join(m, 'vendor/lib/.git/config'), '[core]\n\tfsmonitor = evil\n');
  spawnSync('mkfifo', [join(m, 'pipe')]);
  writeFileSync(join(m, 'setuid-tool'), '#!/bin/sh\n', { mode: 0o755 });
  spawnSync('chmod', ['6755', join(m, 'setuid-tool')]);
  await endSession(s);
  const cs = await sessionChanges(s.dir);
  assert.ok(cs.every((c) => !c.path.split('/').includes('.git')), 'no .git path in the change list');
  assert.equal(cs.find((c) => c.path === 'pipe'), undefined, 'a fifo is not a change to apply');
  const a = airlock(['apply', s.id], home);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(existsSync(join(repo, '.git/hooks/post-checkout')), false);
  assert.equal(readFileSync(join(repo, '.git/config'), 'utf8'), cfg);
  assert.equal(existsSync(join(repo, 'vendor/lib/.git')), false);
  assert.equal(existsSync(join(repo, 'pipe')), false);
  assert.equal(lstatSync(join(repo, 'setuid-tool')).mode & 0o7777, 0o755);
});
