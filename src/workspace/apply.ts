/**
 * `apply`: writes a session's staged changes into the user's tree, all or nothing as far as the
 * filesystem allows.
 *
 * 1. Check every path: relative, no `..`, not in `.git`, each existing ancestor a real directory
 *    (lstat — a symlink anywhere on the way is refused, so nothing is written outside the tree);
 *    and unchanged since the session started (baseline manifest: type, size, mtime, ctime, mode,
 *    inode). Any conflict refuses the whole apply, listing the paths. Nothing has been written.
 * 2. Stage the new contents in a private directory inside the tree (same filesystem), with
 *    permission bits only (setuid/setgid/sticky dropped), verifying each content hash.
 * 3. Commit: unlink deletions, remove deleted directories (deepest first), create directories,
 *    then rename(2) each staged file into place — every file (a chmod too: it is written anew with
 *    the new mode) is replaced atomically; a symlink or a hard link at the destination is replaced,
 *    never written through, so no inode shared with something outside the tree is ever modified.
 * With `commit`, `git add` exactly the changed paths and `git commit --only` them with the trailer
 * `Airlock-Session: <id>`; then the audit module's `attachAttestation` is called when it exists.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, lchownSync, readlinkSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, symlinkSync, unlinkSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../util/errors.js';
import { readStageState } from './stage.js';
import { openChanges, publicChange, type FileChange, type StagedChange } from './changes.js';
import { readManifest, sameEntry, entryOf, type Manifest } from './manifest.js';
import { exec } from './mounts.js';
import { ancestors, checkRelPath, kindAt, resolveInside } from './paths.js';

export interface ApplyOptions {
  /** The session id (named in messages). */
  sessionId: string;
}

export interface ApplyResult {
  root: string;
  applied: FileChange[];
  ignored: { path: string; reason: string }[];
  /** The commit made with `commit`. */
  commit?: string;
  /** What happened with the attestation: 'attached', 'unavailable' (no audit hook) or an error text. */
  attestation?: string;
}

export interface Conflict {
  path: string;
  reason: string;
}

/** Checks a change set against the tree; returns every conflict (empty: safe to apply). */
export function findConflicts(root: string, changes: StagedChange[], baseline: Manifest | undefined): Conflict[] {
  const conflicts: Conflict[] = [];
  const deleting = new Set<string>();
  for (const c of changes) {
    if (c.kind === 'delete') deleting.add(c.path);
    if (c.kind === 'rename' && c.oldPath) deleting.add(c.oldPath);
  }
  const dirCreates = new Set(changes.filter((c) => c.kind === 'create' && c.type === 'dir').map((c) => c.path));
  for (const c of changes) {
    const paths = c.oldPath ? [c.oldPath, c.path] : [c.path];
    for (const p of paths) {
      try {
        checkRelPath(p, 'apply');
      } catch (err) {
        conflicts.push({ path: p, reason: (err as Error).message.replace(/^apply: /, '') });
        continue;
      }
      const r = resolveInside(root, p);
      if (r.badAncestor && !(deleting.has(r.badAncestor) && dirCreates.has(r.badAncestor))) {
        conflicts.push({ path: p, reason: `${r.badAncestor} is not a real directory (symlink or file)` });
        continue;
      }
      const now = entryOf(r.abs);
      if (!baseline) {
        conflicts.push({ path: p, reason: 'no baseline manifest for this session' });
      } else if (!sameEntry(baseline.entries[p], now)) {
        const base = baseline.entries[p];
        conflicts.push({ path: p, reason: !base ? 'created in the tree since the session started' : !now ? 'deleted from the tree since the session started' : 'changed in the tree since the session started' });
      } else if (c.kind === 'delete' && c.type === 'dir' && now && now[0] === 'd') {
        const extra = readdirSync(r.abs).filter((n) => !deleting.has(`${p}/${n}`));
        if (extra.length) conflicts.push({ path: p, reason: `directory holds entries the session does not delete: ${extra.slice(0, 3).join(', ')}` });
      }
    }
  }
  // A path below another changed path that will not be a directory (a symlink or file the session
  // creates there) could only be written through that symlink: refuse.
  const nonDirTargets = new Set(changes.filter((c) => c.kind !== 'delete' && c.type !== 'dir').map((c) => c.path));
  for (const c of changes) {
    if (c.kind === 'delete') continue;
    const a = ancestors(c.path).find((x) => nonDirTargets.has(x));
    if (a) conflicts.push({ path: c.path, reason: `its ancestor ${a} becomes a ${changes.find((x) => x.path === a)?.type} in the same change set` });
  }
  const seen = new Set<string>();
  return conflicts.filter((c) => (seen.has(c.path) ? false : (seen.add(c.path), true)));
}

function sha256File(p: string): string {
  const data = lstatSync(p).isSymbolicLink() ? readlinkSync(p, { encoding: 'buffer' }) : readFileSync(p);
  return createHash('sha256').update(data).digest('hex');
}

/** Applies a session's staged changes (see module doc). Throws `apply-conflict` (nothing written) on conflicts. */
export async function applyChanges(sessionDir: string, opts: ApplyOptions): Promise<ApplyResult> {
  const state = readStageState(sessionDir);
  if (state.discardedAt) throw new AirlockError('apply-discarded', `session ${opts.sessionId}: its staged changes were discarded`, undefined, 1);
  const root = state.workspace;
  if (kindAt(root) !== 'dir') throw new AirlockError('apply-no-tree', `${root}: the session's workspace is gone (not a directory)`, 'restore or re-clone it at that path, or use `airlock diff` and `git apply` elsewhere', 1);
  let baseline: Manifest | undefined;
  try {
    baseline = readManifest(join(state.dir, 'baseline.json'));
  } catch {
    baseline = undefined;
  }
  const cs = await openChanges(sessionDir);
  try {
    return applyChangeList(root, cs.changes, baseline, opts.sessionId, cs.ignored);
  } finally {
    await cs.close();
  }
}

/**
 * Applies an explicit change list to `root` (the mechanics behind `applyChanges`; exported so the
 * attack tests can hand it hostile lists). Throws `apply-conflict` before writing anything.
 */
export function applyChangeList(root: string, changes: StagedChange[], baseline: Manifest | undefined, sessionId: string, ignored: ApplyResult['ignored'] = []): ApplyResult {
  const opts = { sessionId };
  const conflicts = findConflicts(root, changes, baseline);
  if (conflicts.length) {
    const list = conflicts.map((c) => `  ${c.path}: ${c.reason}`).join('\n');
    throw new AirlockError('apply-conflict', `refusing to apply session ${opts.sessionId} to ${root}: ${conflicts.length} path(s) conflict — nothing was written\n${list}`, 'bring those paths back to their state at session start (or commit/stash your edits elsewhere), or review `airlock diff` and apply it by hand with `git apply --3way`', 1);
  }

  // Phase 2: stage contents inside the tree.
  const tmp = join(root, `.airlock-apply-${randomBytes(6).toString('hex')}`);
  mkdirSync(tmp, { mode: 0o700 });
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const rootSt = statSync(root);
  const staged = new Map<StagedChange, string>();
  try {
    let n = 0;
    for (const c of changes) {
      if (!(c.kind === 'create' || c.kind === 'write' || c.kind === 'rename' || c.kind === 'chmod') || c.type === 'dir') continue;
      const t = join(tmp, String(n++));
      if (c.type === 'symlink') symlinkSync(c.linkTarget ?? '', t);
      else {
        copyFileSync(c.src!, t);
        chmodSync(t, (c.mode ?? 0o644) & 0o777);
      }
      if (sha256File(t) !== c.sha256) throw new AirlockError('apply-changed', `${c.path}: the staged content changed while applying`, 'is the session still running? retry when it has ended', 1);
      if (asRoot) {
        const owner = ownerFor(root, c.path, c.kind === 'create' ? undefined : c.oldSrc, rootSt);
        try {
          if (c.type === 'symlink') lchownSync(t, owner.uid, owner.gid);
          else chownSync(t, owner.uid, owner.gid);
        } catch {
          /* keep root ownership */
        }
      }
      staged.set(c, t);
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }

  // Phase 3: commit to the tree.
  const done: string[] = [];
  try {
    const abs = (p: string): string => {
      const r = resolveInside(root, p);
      if (r.badAncestor) throw new AirlockError('apply-escape', `${p}: ${r.badAncestor} is no longer a real directory`, 'the tree changed during apply', 1);
      return r.abs;
    };
    for (const c of changes) {
      const victim = c.kind === 'delete' && c.type !== 'dir' ? c.path : c.kind === 'rename' ? c.oldPath! : undefined;
      if (!victim) continue;
      try {
        unlinkSync(abs(victim));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      done.push(`deleted ${victim}`);
    }
    const dirDeletes = changes.filter((c) => c.kind === 'delete' && c.type === 'dir').sort((a, b) => b.path.length - a.path.length);
    for (const c of dirDeletes) {
      rmdirSync(abs(c.path));
      done.push(`removed ${c.path}/`);
    }
    const dirCreates = changes.filter((c) => c.kind === 'create' && c.type === 'dir').sort((a, b) => a.path.length - b.path.length);
    for (const c of dirCreates) {
      const p = abs(c.path);
      if (kindAt(p) !== 'dir') mkdirSync(p, { mode: (c.mode ?? 0o755) & 0o777 });
      if (asRoot) chownSync(p, rootSt.uid, rootSt.gid);
      done.push(`created ${c.path}/`);
    }
    for (const [c, t] of staged) {
      const p = abs(c.path);
      for (const a of ancestors(c.path)) {
        const ap = abs(a);
        if (kindAt(ap) === 'absent') mkdirSync(ap, { mode: 0o755 });
      }
      if (kindAt(p) === 'dir') throw new AirlockError('apply-conflict', `${c.path}: a directory is in the way`, undefined, 1);
      renameSync(t, p);
      done.push(`${c.kind} ${c.path}`);
    }
    rmSync(tmp, { recursive: true, force: true });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new AirlockError('apply-partial', `apply of session ${opts.sessionId} stopped after ${done.length} step(s): ${(err as Error).message}\n${done.map((d) => `  done: ${d}`).join('\n')}`, 'inspect `git status`; the remaining changes are still staged (`airlock diff`)', 1);
  }

  return { root, applied: changes.map(publicChange), ignored };
}

/**
 * After a successful apply: commit exactly the applied paths with the `Airlock-Session` trailer,
 * then attach the attestation through the audit module when it provides `attachAttestation`.
 */
export async function commitApplied(sessionDir: string, result: ApplyResult, message: string, sessionId: string): Promise<{ commit?: string; attestation?: string }> {
  const commit = await gitCommit(result.root, result.applied, message, sessionId);
  if (!commit) return {};
  return { commit, attestation: await attachAttestationIfAvailable(result.root, commit, sessionId, sessionDir) };
}

function ownerFor(root: string, rel: string, oldSrc: string | undefined, rootSt: { uid: number; gid: number }): { uid: number; gid: number } {
  if (oldSrc) {
    try {
      const st = lstatSync(oldSrc);
      return { uid: st.uid, gid: st.gid };
    } catch {
      /* fall through */
    }
  }
  const parent = rel.includes('/') ? join(root, rel.slice(0, rel.lastIndexOf('/'))) : root;
  try {
    const st = lstatSync(parent);
    if (st.isDirectory()) return { uid: st.uid, gid: st.gid };
  } catch {
    /* new directory */
  }
  return rootSt;
}

/** `git add` exactly the changed paths and commit only them, with the Airlock-Session trailer. */
async function gitCommit(root: string, changes: FileChange[], message: string, sessionId: string): Promise<string | undefined> {
  const env = { ...process.env, GIT_LITERAL_PATHSPECS: '1' };
  const paths = new Set<string>();
  for (const c of changes) {
    if (c.type === 'dir') continue;
    paths.add(c.path);
    if (c.oldPath) paths.add(c.oldPath);
  }
  if (paths.size === 0) return undefined;
  const nul = (xs: Iterable<string>): string => [...xs].map((x) => `${x}\0`).join('');
  const tracked = await exec('git', ['ls-files', '-z', '--cached', '--', '.'], { cwd: root, env });
  const trackedSet = new Set(tracked.stdout.split('\0').filter(Boolean));
  const existing = [...paths].filter((p) => kindAt(join(root, p)) !== 'absent' || trackedSet.has(p));
  const ign = await exec('git', ['check-ignore', '-z', '--stdin'], { cwd: root, input: nul(existing) });
  if (ign.code > 1) throw new AirlockError('apply-git', `git check-ignore failed in ${root}: ${ign.stderr.trim()}`, undefined, 1);
  const ignored = new Set(ign.stdout.split('\0').filter(Boolean));
  const toCommit = existing.filter((p) => !ignored.has(p));
  if (toCommit.length === 0) return undefined;
  const add = await exec('git', ['add', '-A', '--pathspec-from-file=-', '--pathspec-file-nul'], { cwd: root, env, input: nul(toCommit) });
  if (add.code !== 0) throw new AirlockError('apply-git', `git add failed in ${root}: ${add.stderr.trim()}`, 'the files were applied; commit them by hand', 1);
  const msg = `${message.replace(/\s+$/, '')}\n\nAirlock-Session: ${sessionId}\n`;
  const commit = await exec('git', ['commit', '--quiet', '--only', '-m', msg, '--pathspec-from-file=-', '--pathspec-file-nul'], { cwd: root, env, input: nul(toCommit) });
  if (commit.code !== 0) throw new AirlockError('apply-git', `git commit failed in ${root}: ${(commit.stderr || commit.stdout).trim()}`, 'the files were applied and staged; commit them by hand (check user.name/user.email)', 1);
  const head = await exec('git', ['rev-parse', 'HEAD'], { cwd: root });
  return head.stdout.trim();
}

/** Calls `attachAttestation` from src/audit/index.ts when the audit module provides it. */
async function attachAttestationIfAvailable(repo: string, commit: string, sessionId: string, sessionDir: string): Promise<string> {
  const spec = '../audit/index.js';
  let mod: { attachAttestation?: (o: { repo: string; commit: string; sessionId: string; sessionDir: string }) => unknown } | undefined;
  try {
    mod = (await import(spec)) as typeof mod;
  } catch {
    return 'unavailable';
  }
  if (typeof mod?.attachAttestation !== 'function') return 'unavailable';
  try {
    await mod.attachAttestation({ repo, commit, sessionId, sessionDir });
    return 'attached';
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  }
}
