/**
 * Shared set-up for the workspace tests: a real git repository in a temp dir, a real session
 * under a temp AIRLOCK_HOME, a real overlayfs (or copy) stage, and tree snapshots to compare.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, symlinkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSessionDir, newSessionId, writeSessionMeta, type SessionMeta } from '../../src/session/store.js';
import { mountsUnder, unmountAll } from '../../src/workspace/mounts.js';
import { stageWorkspace, type StagedWorkspace, type StageOptions } from '../../src/workspace/index.js';

export const BIN = resolve(fileURLToPath(import.meta.url), '../../../../bin/airlock');

const created: string[] = [];

export function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), `airlock-ws-${prefix}-`));
  created.push(d);
  return d;
}

/** Unmounts anything left under the temp dirs this process made, then removes them. */
export async function cleanupAll(): Promise<void> {
  for (const d of created.splice(0)) {
    await unmountAll(d).catch(() => {});
    if (mountsUnder(d).length === 0) rmSync(d, { recursive: true, force: true });
  }
}

export function hasGit(): boolean {
  return spawnSync('git', ['--version']).status === 0;
}

let overlayProbe: string | undefined | null = null;
/** Why overlayfs cannot be used here (undefined when it can). Probed once with a real mount. */
export function overlayUnavailable(): string | undefined {
  if (overlayProbe !== null) return overlayProbe;
  if (process.getuid?.() !== 0) return (overlayProbe = 'needs root for overlayfs');
  const d = tmp('probe');
  for (const n of ['l', 'u', 'w', 'm']) mkdirSync(join(d, n));
  const r = spawnSync('mount', ['-t', 'overlay', 'probe', '-o', `lowerdir=${d}/l,upperdir=${d}/u,workdir=${d}/w`, `${d}/m`]);
  if (r.status === 0) {
    spawnSync('umount', [`${d}/m`]);
    overlayProbe = undefined;
  } else {
    overlayProbe = `overlayfs mount failed: ${r.stderr.toString().trim()}`;
  }
  rmSync(d, { recursive: true, force: true });
  return overlayProbe;
}

export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A repository covering every kind of file the staging has to handle, committed. */
export function makeRepo(): string {
  const repo = tmp('repo');
  git(repo, 'init', '-q');
  git(repo, 'config', 'user.email', 'test@example.invalid');
  git(repo, 'config', 'user.name', 'Test');
  git(repo, 'config', 'core.autocrlf', 'false');
  const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
  writeFileSync(join(repo, 'mod.txt'), `${lines.join('\n')}\n`);
  writeFileSync(join(repo, 'keep.txt'), 'untouched\n');
  writeFileSync(join(repo, 'del.txt'), 'to be deleted\n');
  writeFileSync(join(repo, 'ren.txt'), 'rename me, I am unique content\n');
  writeFileSync(join(repo, 'exe.sh'), '#!/bin/sh\necho hi\n');
  writeFileSync(join(repo, 'bin.dat'), Buffer.from([0, 1, 2, 3, 255, 0, 10, 13, 10]));
  writeFileSync(join(repo, 'crlf.txt'), 'one\r\ntwo\r\nthree\r\n');
  writeFileSync(join(repo, 'nonl.txt'), 'first\nlast without newline');
  writeFileSync(join(repo, 'addnl.txt'), 'no newline yet');
  writeFileSync(join(repo, 'sp ace.txt'), 'spaces in the name\n');
  symlinkSync('keep.txt', join(repo, 'link'));
  mkdirSync(join(repo, 'dir'));
  writeFileSync(join(repo, 'dir/a.txt'), 'a\n');
  writeFileSync(join(repo, 'dir/b.txt'), 'b\n');
  mkdirSync(join(repo, 'olddir'));
  writeFileSync(join(repo, 'olddir/x.txt'), 'x\n');
  writeFileSync(join(repo, 'olddir/y.txt'), 'y\n');
  mkdirSync(join(repo, 't'));
  writeFileSync(join(repo, 't/inner.txt'), 'dir becomes a file\n');
  writeFileSync(join(repo, 'fd'), 'file becomes a dir\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');
  return repo;
}

/** What an agent does in the workspace: one of each kind of change. */
export function agentEdits(m: string): void {
  const lines = readFileSync(join(m, 'mod.txt'), 'utf8').split('\n');
  lines[2] = 'line 3 changed';
  lines[25] = 'line 26 changed';
  writeFileSync(join(m, 'mod.txt'), lines.join('\n'));
  rmSync(join(m, 'del.txt'));
  mkdirSync(join(m, 'moved'));
  writeFileSync(join(m, 'moved/ren.txt'), readFileSync(join(m, 'ren.txt')));
  rmSync(join(m, 'ren.txt'));
  chmodSync(join(m, 'exe.sh'), 0o755);
  writeFileSync(join(m, 'bin.dat'), Buffer.from([0, 1, 2, 4, 255, 0]));
  writeFileSync(join(m, 'new.bin'), Buffer.concat([Buffer.from([0]), createHash('sha512').update('x').digest(), Buffer.alloc(3000, 7)]));
  rmSync(join(m, 'link'));
  symlinkSync('mod.txt', join(m, 'link'));
  symlinkSync('dir-gone/nowhere', join(m, 'newlink'));
  writeFileSync(join(m, 'crlf.txt'), 'one\r\nTWO\r\nthree\r\n');
  writeFileSync(join(m, 'nonl.txt'), 'first\nlast changed, still no newline');
  writeFileSync(join(m, 'addnl.txt'), 'no newline yet\n');
  writeFileSync(join(m, 'sp ace.txt'), 'spaces in the name, edited\n');
  writeFileSync(join(m, 'ünïcode "q".txt'), 'non-ascii name\n');
  writeFileSync(join(m, 'empty.txt'), '');
  rmSync(join(m, 'dir'), { recursive: true });
  rmSync(join(m, 'olddir'), { recursive: true });
  mkdirSync(join(m, 'olddir'));
  writeFileSync(join(m, 'olddir/z.txt'), 'z\n');
  rmSync(join(m, 't'), { recursive: true });
  writeFileSync(join(m, 't'), 'now a file\n');
  rmSync(join(m, 'fd'));
  mkdirSync(join(m, 'fd'));
  writeFileSync(join(m, 'fd/inner.txt'), 'now a dir\n');
  writeFileSync(join(m, 'suid.sh'), '#!/bin/sh\nid\n');
  chmodSync(join(m, 'suid.sh'), 0o4755);
  mkdirSync(join(m, 'deep/er/still'), { recursive: true });
  writeFileSync(join(m, 'deep/er/still/file.txt'), 'deep\n');
  writeFileSync(join(m, '.git/hooks/pre-commit'), '#!/bin/sh\necho pwned\n');
}

/** path → description (type, permission bits masked to 0o777, content hash or link target); skips .git. */
export function snapshot(root: string, opts: { gitModes?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const n of readdirSync(rel ? join(root, rel) : root).sort()) {
      if (n === '.git') continue;
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(join(root, r));
      if (st.isDirectory()) {
        out[r] = 'dir';
        walk(r);
      } else if (st.isSymbolicLink()) {
        out[r] = `link:${readlinkSync(join(root, r))}`;
      } else {
        const mode = opts.gitModes ? (st.mode & 0o100 ? '755' : '644') : (st.mode & 0o777).toString(8);
        out[r] = `file:${mode}:${createHash('sha256').update(readFileSync(join(root, r))).digest('hex')}`;
      }
    }
  };
  walk('');
  return out;
}

/** Drops empty directories from a snapshot (git does not track them). */
export function withoutEmptyDirs(s: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === 'dir' && !Object.keys(s).some((o) => o.startsWith(`${k}/`) && s[o] !== 'dir')) continue;
    out[k] = v;
  }
  return out;
}

export interface TestSession {
  id: string;
  dir: string;
  ws: StagedWorkspace;
}

/** Creates a session (status 'running' while staged, like `airlock run`) and stages `repo`. */
export async function newSession(repo: string, opts: Partial<StageOptions> = {}, meta: Partial<SessionMeta> = {}): Promise<TestSession> {
  const id = newSessionId();
  const dir = createSessionDir(id);
  writeSessionMeta({ id, createdAt: new Date().toISOString(), workspace: repo, policyFile: 'airlock.yaml', policyDigest: 'sha256:0', backend: 'none', argv: ['true'], status: 'running', pid: process.pid, ...meta });
  const ws = await stageWorkspace({ workspace: repo, sessionDir: dir, ...opts });
  return { id, dir, ws };
}

/** Ends a session like `airlock run` does: release the stage, status 'ended'. */
export async function endSession(s: TestSession, meta: Partial<SessionMeta> = {}): Promise<void> {
  await s.ws.release();
  writeSessionMeta({ id: s.id, createdAt: new Date().toISOString(), workspace: s.ws.lower, policyFile: 'airlock.yaml', policyDigest: 'sha256:0', backend: 'none', argv: ['true'], status: 'ended', exitCode: 0, ...meta });
}

export function airlock(args: string[], home: string, cwd?: string): { status: number; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, AIRLOCK_HOME: home }, cwd });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}
