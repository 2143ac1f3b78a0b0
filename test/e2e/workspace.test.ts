/**
 * The staged workspace end to end, on the real thing: overlayfs mounts (and the copy fallback),
 * real git repositories, `git apply` of our patch, and the CLI (`bin/airlock diff|apply|discard`).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, writeFileSync, appendFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSessionMeta } from '../../src/session/store.js';
import { sessionChanges, type FileChange } from '../../src/workspace/index.js';
import { mountsUnder } from '../../src/workspace/mounts.js';
import { agentEdits, airlock, cleanupAll, endSession, git, hasGit, makeRepo, newSession, overlayUnavailable, snapshot, tmp, withoutEmptyDirs } from './workspace-fixture.js';

let home: string;
before(() => {
  home = tmp('home');
  process.env.AIRLOCK_HOME = home;
});
after(() => cleanupAll());

const find = (cs: FileChange[], path: string, kind?: string): FileChange | undefined => cs.find((c) => c.path === path && (!kind || c.kind === kind));

for (const mode of ['overlay', 'copy'] as const) {
  test(`${mode}: every kind of change is listed exactly, the patch applies with git apply, and apply reproduces the session's tree`, async (t) => {
    if (!hasGit()) return t.skip('git not installed');
    if (mode === 'overlay' && overlayUnavailable()) return t.skip(overlayUnavailable()!);
    const repo = makeRepo();
    const before = snapshot(repo);
    const gitConfigBefore = readFileSync(join(repo, '.git/config'), 'utf8');
    const s = await newSession(repo, { mode });
    assert.equal(s.ws.mode, mode);
    agentEdits(s.ws.merged);
    const expected = snapshot(s.ws.merged);
    await endSession(s);

    // The user's tree is untouched until apply.
    assert.deepEqual(snapshot(repo), before, 'the tree changed before apply');
    assert.equal(existsSync(join(repo, '.git/hooks/pre-commit')), false);

    const cs = await sessionChanges(s.dir);
    assert.equal(find(cs, 'mod.txt', 'write')?.binary, false);
    assert.equal(find(cs, 'del.txt', 'delete')?.type, 'file');
    const ren = find(cs, 'moved/ren.txt', 'rename');
    assert.equal(ren?.oldPath, 'ren.txt', 'rename detected from a delete+create of identical content');
    assert.equal(find(cs, 'ren.txt'), undefined, 'a renamed file is not also listed as deleted');
    assert.deepEqual([find(cs, 'exe.sh')?.kind, find(cs, 'exe.sh')?.oldMode, find(cs, 'exe.sh')?.mode], ['chmod', 0o644, 0o755]);
    assert.equal(find(cs, 'bin.dat', 'write')?.binary, true);
    assert.equal(find(cs, 'new.bin', 'create')?.binary, true);
    assert.deepEqual([find(cs, 'link')?.kind, find(cs, 'link')?.type, find(cs, 'link')?.linkTarget, find(cs, 'link')?.oldLinkTarget], ['write', 'symlink', 'mod.txt', 'keep.txt']);
    assert.equal(find(cs, 'newlink', 'create')?.linkTarget, 'dir-gone/nowhere');
    assert.ok(find(cs, 'dir/a.txt', 'delete') && find(cs, 'dir/b.txt', 'delete') && find(cs, 'dir', 'delete'), 'a removed directory lists its files and itself');
    assert.ok(find(cs, 'olddir/x.txt', 'delete') && find(cs, 'olddir/y.txt', 'delete'), 'an opaque (removed and recreated) directory hides the old files');
    assert.ok(find(cs, 'olddir/z.txt', 'create'));
    assert.ok(find(cs, 't/inner.txt', 'delete') && find(cs, 't', 'create')?.type === 'file', 'dir → file');
    assert.ok(find(cs, 'fd', 'delete')?.type === 'file' && find(cs, 'fd', 'create')?.type === 'dir' && find(cs, 'fd/inner.txt', 'create'), 'file → dir');
    assert.equal(find(cs, 'keep.txt'), undefined);
    assert.equal(find(cs, 'empty.txt', 'create')?.size, 0);
    assert.ok(cs.every((c) => !c.path.startsWith('.git')), '.git internals are never in the change list');
    const w = find(cs, 'mod.txt')!;
    assert.match(w.sha256!, /^[0-9a-f]{64}$/);
    assert.notEqual(w.sha256, w.oldSha256);

    // The patch applies with git apply to a clone of the original and gives the same tree.
    const d = airlock(['diff', s.id], home);
    assert.equal(d.status, 0, d.stderr);
    const patch = d.stdout.toString('latin1');
    assert.match(patch, /^diff --git a\/bin\.dat b\/bin\.dat$/m);
    assert.match(patch, /^GIT binary patch$/m);
    assert.match(patch, /^rename from ren\.txt\nrename to moved\/ren\.txt$/m);
    assert.match(patch, /^old mode 100644\nnew mode 100755$/m);
    assert.match(patch, /^deleted file mode 100644$/m);
    assert.match(patch, /^new file mode 120000$/m);
    assert.match(patch, /^\\ No newline at end of file$/m);
    const clone = tmp('clone');
    git(clone, 'clone', '-q', repo, '.');
    git(clone, 'config', 'core.autocrlf', 'false');
    const ga = spawnSync('git', ['apply', '--index', '-'], { cwd: clone, input: d.stdout });
    assert.equal(ga.status, 0, `git apply failed: ${ga.stderr}`);
    assert.deepEqual(withoutEmptyDirs(snapshot(clone, { gitModes: true })), withoutEmptyDirs(snapshotGitModes(expected)));
    const st = airlock(['diff', s.id, '--stat'], home);
    assert.match(st.stdout.toString(), /ren\.txt => moved\/ren\.txt/);
    const js = JSON.parse(airlock(['diff', s.id, '--json'], home).stdout.toString()) as { changes: FileChange[]; mode: string };
    assert.equal(js.mode, mode);
    assert.deepEqual(js.changes, cs);

    // apply writes exactly the session's tree (setuid dropped, .git untouched), status 'applied'.
    const a = airlock(['apply', s.id], home);
    assert.equal(a.status, 0, a.stderr);
    const after = snapshot(repo);
    assert.deepEqual(after, expected);
    assert.equal(lstatSync(join(repo, 'suid.sh')).mode & 0o7000, 0, 'setuid/setgid bits are dropped on apply');
    assert.equal(existsSync(join(repo, '.git/hooks/pre-commit')), false, 'an agent-written git hook never reaches the tree');
    assert.equal(readFileSync(join(repo, '.git/config'), 'utf8'), gitConfigBefore);
    assert.ok(!readdirSync(repo).some((n) => n.startsWith('.airlock-apply-')), 'no staging leftovers');
    assert.equal(readSessionMeta(s.id).status, 'applied');
    const again = airlock(['apply', s.id], home);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already applied/);
  });
}

function snapshotGitModes(s: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s)) out[k] = v.replace(/^file:([0-7]+):/, (_m, mode: string) => `file:${parseInt(mode, 8) & 0o100 ? '755' : '644'}:`);
  return out;
}

test('apply refuses, listing the files and writing nothing, when the tree changed underneath', async (t) => {
  if (!hasGit()) return t.skip('git not installed');
  const repo = makeRepo();
  const s = await newSession(repo);
  writeFileSync(join(s.ws.merged, 'mod.txt'), 'agent version\n');
  writeFileSync(join(s.ws.merged, 'brand-new.txt'), 'agent file\n');
  writeFileSync(join(s.ws.merged, 'collide.txt'), 'agent collide\n');
  rmFile(s.ws.merged, 'keep.txt');
  await endSession(s);
  // The user edits the same file, creates one the agent also created, and deletes one.
  appendFileSync(join(repo, 'mod.txt'), 'user edit\n');
  writeFileSync(join(repo, 'collide.txt'), 'user collide\n');
  const userBefore = snapshot(repo);
  const js = JSON.parse(airlock(['diff', s.id, '--json'], home).stdout.toString()) as { drifted: string[] };
  assert.deepEqual(js.drifted, ['collide.txt', 'mod.txt']);
  const a = airlock(['apply', 'last'], home);
  assert.equal(a.status, 1, a.stderr);
  assert.match(a.stderr, /refusing to apply/);
  assert.match(a.stderr, /mod\.txt: changed in the tree since the session started/);
  assert.match(a.stderr, /collide\.txt: created in the tree since the session started/);
  assert.doesNotMatch(a.stderr, /brand-new/);
  assert.deepEqual(snapshot(repo), userBefore, 'nothing half-applied');
  assert.equal(existsSync(join(repo, 'brand-new.txt')), false);
  assert.equal(readSessionMeta(s.id).status, 'ended');
});

function rmFile(dir: string, name: string): void {
  spawnSync('rm', ['-f', '--', join(dir, name)]);
}

test('apply --commit adds exactly the changed paths and commits them with the Airlock-Session trailer', async (t) => {
  if (!hasGit()) return t.skip('git not installed');
  const repo = makeRepo();
  // The user has an unrelated staged change: it must not be swept into the agent's commit.
  writeFileSync(join(repo, 'user-staged.txt'), 'mine\n');
  git(repo, 'add', 'user-staged.txt');
  writeFileSync(join(repo, '.gitignore'), 'ignored.log\n');
  git(repo, 'add', '.gitignore');
  git(repo, 'commit', '-q', '-m', 'ignore', '--', '.gitignore');
  const s = await newSession(repo);
  writeFileSync(join(s.ws.merged, 'mod.txt'), 'agent\n');
  writeFileSync(join(s.ws.merged, 'added.txt'), 'agent added\n');
  writeFileSync(join(s.ws.merged, 'ignored.log'), 'agent log\n');
  rmFile(s.ws.merged, 'del.txt');
  await endSession(s);
  const a = airlock(['apply', 'last', '--commit', '-m', 'agent: fix things'], home);
  assert.equal(a.status, 0, a.stderr);
  const msg = git(repo, 'log', '-1', '--format=%B');
  assert.match(msg, /^agent: fix things\n\nAirlock-Session: /);
  assert.equal(git(repo, 'log', '-1', '--format=%(trailers:key=Airlock-Session,valueonly)').trim(), s.id);
  const files = git(repo, 'show', '--name-status', '--format=', 'HEAD').trim().split('\n').sort();
  assert.deepEqual(files, ['A\tadded.txt', 'D\tdel.txt', 'M\tmod.txt']);
  assert.match(git(repo, 'status', '--porcelain'), /^A {2}user-staged\.txt$/m, "the user's staged change stays staged, uncommitted");
  assert.equal(readFileSync(join(repo, 'ignored.log'), 'utf8'), 'agent log\n', 'ignored files are applied, not committed');
  const meta = readSessionMeta(s.id);
  assert.equal(meta.status, 'applied');
  assert.equal(meta.appliedCommit, git(repo, 'rev-parse', 'HEAD').trim());
  assert.equal(airlock(['apply', 'last', '--commit'], home).status, 2, '--commit without -m is a usage error');
});

test('discard removes the staged layers and mounts, leaves the tree alone, and marks the session', async (t) => {
  if (!hasGit()) return t.skip('git not installed');
  const repo = makeRepo();
  const before = snapshot(repo);
  const s = await newSession(repo, { diskBytes: overlayUnavailable() ? undefined : 8 << 20 });
  writeFileSync(join(s.ws.merged, 'mod.txt'), 'agent\n');
  await endSession(s);
  const r = airlock(['discard', s.id], home);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(snapshot(repo), before);
  assert.deepEqual(mountsUnder(s.dir), []);
  for (const n of ['merged', 'upper', 'work', 'layer']) assert.equal(existsSync(join(s.dir, 'workspace', n)), false, `${n} removed`);
  assert.equal(readSessionMeta(s.id).status, 'discarded');
  const a = airlock(['apply', s.id], home);
  assert.equal(a.status, 1);
  assert.match(a.stderr, /discarded/);
});

test('apply and discard refuse on a running session; diff works on it live', async (t) => {
  if (!hasGit()) return t.skip('git not installed');
  const repo = makeRepo();
  const s = await newSession(repo);
  writeFileSync(join(s.ws.merged, 'live.txt'), 'while running\n');
  for (const cmd of ['apply', 'discard']) {
    const r = airlock([cmd, s.id], home);
    assert.equal(r.status, 1, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /still running/);
  }
  const d = airlock(['diff', s.id], home);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout.toString(), /^\+\+\+ b\/live\.txt$/m);
  assert.equal(existsSync(join(repo, 'live.txt')), false);
  await endSession(s);
  assert.deepEqual(mountsUnder(s.dir), [], 'release unmounts everything');
});

test('overlay: the workspace is mounted nosuid,nodev,noexec — `sh script.sh` works, `./script.sh` does not', async (t) => {
  const why = overlayUnavailable();
  if (why) return t.skip(why);
  const repo = makeRepo();
  const s = await newSession(repo);
  assert.deepEqual(s.ws.mountOptions, ['nosuid', 'nodev', 'noexec']);
  writeFileSync(join(s.ws.merged, 'run.sh'), '#!/bin/sh\necho ran-ok\n', { mode: 0o755 });
  const viaSh = spawnSync('sh', ['run.sh'], { cwd: s.ws.merged, encoding: 'utf8' });
  assert.equal(viaSh.stdout, 'ran-ok\n');
  const direct = spawnSync(join(s.ws.merged, 'run.sh'), [], { encoding: 'utf8' });
  assert.equal((direct.error as NodeJS.ErrnoException | undefined)?.code, 'EACCES', 'direct exec is refused by noexec');
  await endSession(s);
});

test('overlay + diskBytes: the writable layer is capped (ENOSPC) and staged changes survive the session on disk', async (t) => {
  const why = overlayUnavailable();
  if (why) return t.skip(why);
  const repo = makeRepo();
  const s = await newSession(repo, { diskBytes: 4 << 20 });
  assert.equal(s.ws.diskLimit, 'tmpfs');
  writeFileSync(join(s.ws.merged, 'small.txt'), 'kept\n');
  assert.throws(() => writeFileSync(join(s.ws.merged, 'huge.bin'), Buffer.alloc(8 << 20, 1)), /ENOSPC/);
  rmFile(s.ws.merged, 'huge.bin');
  rmFile(s.ws.merged, 'del.txt');
  await endSession(s);
  assert.deepEqual(mountsUnder(s.dir), [], 'tmpfs unmounted at release');
  const cs = await sessionChanges(s.dir);
  assert.deepEqual(cs.map((c) => `${c.kind} ${c.path}`), ['delete del.txt', 'create small.txt']);
  const a = airlock(['apply', s.id], home);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(readFileSync(join(repo, 'small.txt'), 'utf8'), 'kept\n');
  assert.equal(existsSync(join(repo, 'del.txt')), false);
});

test('a session whose airlock died without release is recovered by diff (unmounted, opaque dirs found)', async (t) => {
  const why = overlayUnavailable();
  if (why) return t.skip(why);
  const repo = makeRepo();
  const s = await newSession(repo, { diskBytes: 8 << 20 });
  spawnSync('rm', ['-rf', join(s.ws.merged, 'olddir')]);
  mkdirSync(join(s.ws.merged, 'olddir'));
  writeFileSync(join(s.ws.merged, 'olddir/z.txt'), 'z\n');
  // No release(): simulate a crash, the session is marked ended by whoever cleans up.
  const { writeSessionMeta, readSessionMeta: rm } = await import('../../src/session/store.js');
  writeSessionMeta({ ...rm(s.id), status: 'ended', pid: undefined });
  const d = airlock(['diff', s.id, '--json'], home);
  assert.equal(d.status, 0, d.stderr);
  const cs = (JSON.parse(d.stdout.toString()) as { changes: FileChange[] }).changes;
  assert.deepEqual(cs.map((c) => `${c.kind} ${c.path}`), ['delete olddir/x.txt', 'delete olddir/y.txt', 'create olddir/z.txt']);
  assert.deepEqual(mountsUnder(s.dir), []);
});

test('overlay: renaming a directory of the repository works (git mv) and shows as renames of its files', async (t) => {
  const why = overlayUnavailable();
  if (why) return t.skip(why);
  const repo = makeRepo();
  const s = await newSession(repo, { diskBytes: 8 << 20 });
  const mv = spawnSync('git', ['mv', 'olddir', 'newdir'], { cwd: s.ws.merged, encoding: 'utf8' });
  assert.equal(mv.status, 0, mv.stderr);
  writeFileSync(join(s.ws.merged, 'newdir/x.txt'), 'x edited after the move\n');
  writeFileSync(join(s.ws.merged, 'newdir/added.txt'), 'added\n');
  spawnSync('mv', [join(s.ws.merged, 'dir'), join(s.ws.merged, 'dir2')]);
  const expected = snapshot(s.ws.merged);
  await endSession(s);
  const cs = await sessionChanges(s.dir);
  assert.deepEqual(cs.map((c) => `${c.kind} ${c.oldPath ? `${c.oldPath} -> ` : ''}${c.path}`), [
    'delete dir',
    'create dir2',
    'rename dir/a.txt -> dir2/a.txt',
    'rename dir/b.txt -> dir2/b.txt',
    'create newdir',
    'create newdir/added.txt',
    'create newdir/x.txt',
    'rename olddir/y.txt -> newdir/y.txt',
    'delete olddir',
    'delete olddir/x.txt',
  ]);
  const clone = tmp('clone');
  git(clone, 'clone', '-q', repo, '.');
  const ga = spawnSync('git', ['apply', '--index', '-'], { cwd: clone, input: airlock(['diff', s.id], home).stdout });
  assert.equal(ga.status, 0, ga.stderr.toString());
  assert.deepEqual(withoutEmptyDirs(snapshot(clone)), withoutEmptyDirs(expected));
  const a = airlock(['apply', s.id], home);
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(snapshot(repo), expected);
});

test('fallback to copy mode when overlayfs cannot be mounted (session dir on overlayfs, as in a container), same API', async (t) => {
  const why = overlayUnavailable();
  if (why) return t.skip(why);
  if (!hasGit()) return t.skip('git not installed');
  // A "container root": an overlayfs holding both the repository and AIRLOCK_HOME.
  const root = tmp('nested');
  for (const n of ['l', 'u', 'w', 'm']) mkdirSync(join(root, n));
  const m = spawnSync('mount', ['-t', 'overlay', 'nested', '-o', `lowerdir=${root}/l,upperdir=${root}/u,workdir=${root}/w`, `${root}/m`], { encoding: 'utf8' });
  assert.equal(m.status, 0, m.stderr);
  try {
    const repo = join(root, 'm', 'repo');
    mkdirSync(repo);
    git(repo, 'init', '-q');
    writeFileSync(join(repo, 'a.txt'), 'a\n');
    const nestedHome = join(root, 'm', 'home');
    const { stageWorkspace } = await import('../../src/workspace/index.js');
    const ws = await stageWorkspace({ workspace: repo, sessionDir: join(nestedHome, 'sessions', 'x') });
    assert.equal(ws.mode, 'copy');
    assert.match(ws.reason ?? '', /^overlayfs mount failed: /);
    writeFileSync(join(ws.merged, 'a.txt'), 'b\n');
    await ws.release();
    const cs = await sessionChanges(join(nestedHome, 'sessions', 'x'));
    assert.deepEqual(cs.map((c) => `${c.kind} ${c.path}`), ['write a.txt']);
    assert.equal(readFileSync(join(repo, 'a.txt'), 'utf8'), 'a\n');
  } finally {
    spawnSync('umount', [`${root}/m`]);
  }
});

test('a workspace path overlayfs options cannot carry (space, comma) is staged by copy, and says so', async (t) => {
  if (!hasGit()) return t.skip('git not installed');
  const parent = tmp('odd');
  const repo = join(parent, 'my repo, v2');
  mkdirSync(repo);
  git(repo, 'init', '-q');
  writeFileSync(join(repo, 'a.txt'), 'a\n');
  const s = await newSession(repo);
  assert.equal(s.ws.mode, 'copy');
  assert.match(s.ws.reason ?? '', /comma, colon, backslash or space|not running as root/);
  writeFileSync(join(s.ws.merged, 'a.txt'), 'b\n');
  await endSession(s);
  const a = airlock(['apply', s.id], home);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(readFileSync(join(repo, 'a.txt'), 'utf8'), 'b\n');
});

test('copy mode is used (and says why) when overlay is not wanted; unchanged copies are not changes', async (t) => {
  if (!hasGit()) return t.skip('git not installed');
  const repo = makeRepo();
  const s = await newSession(repo, { mode: 'copy' });
  assert.equal(s.ws.mode, 'copy');
  assert.equal(s.ws.reason, 'copy mode requested');
  // Rewriting a file with identical content, or touching it, is not a change.
  writeFileSync(join(s.ws.merged, 'keep.txt'), 'untouched\n');
  spawnSync('touch', [join(s.ws.merged, 'mod.txt')]);
  await endSession(s);
  assert.deepEqual(await sessionChanges(s.dir), []);
  const d = airlock(['diff', s.id], home);
  assert.equal(d.stdout.length, 0);
});
