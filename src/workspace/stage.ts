/**
 * Staging: gives the sandbox a writable view of the user's repository whose writes land in a
 * session layer, never in the tree itself.
 *
 * overlay mode (root, overlayfs available): a host overlayfs mount
 *   lowerdir = the live repository, upperdir/workdir = `<sessionDir>/workspace/{upper,work}`,
 *   merged = `<sessionDir>/workspace/merged` (what the sandbox binds as its workspace).
 *   Options: `redirect_dir=on` (renaming a directory of the repository works, `git mv` included),
 *   `metacopy=off` (a chmod copies the whole file up), `index=off,xino=off`; `nosuid,nodev` always,
 *   `noexec` unless `exec: true` (files in the workspace cannot be executed directly;
 *   `sh script.sh` still works — see docs/workspace.md). Changes are read through a merged view
 *   (the live mount, or a read-only `lowerdir=upper:lower` mount afterwards), so whiteouts, opaque
 *   and redirected directories are interpreted by the kernel, not by parsing xattrs.
 *   With `diskBytes` the upper/work live on a tmpfs of that size (`<sessionDir>/workspace/layer`),
 *   so a disk-filling agent hits ENOSPC; `release()` copies the upper layer to disk
 *   (`cp -a`, keeping whiteouts and xattrs) so diff/apply work after the session.
 *
 * copy mode (fallback: not root, overlay not mountable, e.g. the session dir is itself on
 *   overlayfs): `cp -a --reflink=auto` of the repository into `merged/`, plus a manifest of the copy
 *   (inode + ctime tell exactly which entries the agent touched).
 *
 * Caveat (overlay): the lower layer is the user's live tree. Changing it while the session runs is
 * unsupported by overlayfs (the agent may see a mix); the baseline manifest taken at start lets
 * diff warn and apply refuse for any path changed underneath.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AirlockError } from '../util/errors.js';
import { exec, isMountPoint, mountsUnder, unmountAll } from './mounts.js';
import { takeManifest, writeManifest } from './manifest.js';

export type StageMode = 'overlay' | 'copy';

/** What `stageWorkspace` returns: the directory to bind into the sandbox and how to finish. */
export interface StagedWorkspace {
  /** Which mechanism is in use. */
  mode: StageMode;
  /** Why copy mode was chosen (when it was). */
  reason?: string;
  /** Host directory to bind read-write into the sandbox as the workspace. */
  merged: string;
  /** The session layer that receives the writes (overlay upper; in copy mode the copy itself). */
  upper: string;
  /** The user's repository (real path). Never written before `airlock apply`. */
  lower: string;
  /** Mount options on `merged` (overlay mode), e.g. ['nosuid','nodev','noexec']. */
  mountOptions: string[];
  /** Whether `diskBytes` is enforced ('tmpfs') or not ('none': copy mode or not requested). */
  diskLimit: 'tmpfs' | 'none';
  /** Unmounts and keeps the layers on disk for diff/apply. Idempotent. */
  release(): Promise<void>;
}

export interface StageOptions {
  /** The repository directory to stage. */
  workspace: string;
  /** The session directory (`$AIRLOCK_HOME/sessions/<id>`); layers go under `<sessionDir>/workspace/`. */
  sessionDir: string;
  /** Size cap of the writable layer (overlay mode: a tmpfs of this size holds upper+work). */
  diskBytes?: number;
  /** 'auto' (default): overlay when possible, else copy. Forcing 'overlay' fails instead of falling back. */
  mode?: 'auto' | StageMode;
  /** Allow executing files from the workspace (default false: merged is mounted noexec). */
  exec?: boolean;
}

/** Persisted in `<sessionDir>/workspace/stage.json`. */
export interface StageState {
  v: 1;
  mode: StageMode;
  reason?: string;
  workspace: string;
  dir: string;
  merged: string;
  /** Where the upper layer lives after release (overlay), or the copy (copy mode). */
  upper: string;
  /** Where the upper layer lives while mounted (differs from `upper` with a tmpfs). */
  liveUpper: string;
  work?: string;
  tmpfs?: string;
  diskBytes?: number;
  diskLimit: 'tmpfs' | 'none';
  mountOptions: string[];
  createdAt: string;
  releasedAt?: string;
  discardedAt?: string;
}

export function stageDir(sessionDir: string): string {
  return join(sessionDir, 'workspace');
}

export function readStageState(sessionDir: string): StageState {
  const file = join(stageDir(sessionDir), 'stage.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StageState;
  } catch {
    throw new AirlockError('workspace-none', `${sessionDir}: this session has no staged workspace (missing ${file})`, 'only sessions started by `airlock run` with a staged workspace can be diffed or applied', 1);
  }
}

export function writeStageState(s: StageState): void {
  const file = join(s.dir, 'stage.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(s, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

const OVERLAY_UNSAFE = /[,:\\\s]/;

/**
 * Stages `workspace` for a session. Takes the baseline manifest first, then mounts the overlay
 * (or makes the copy). The caller binds `merged` into the sandbox and calls `release()` after the
 * agent exits (on every exit path).
 *
 * @example
 *   const ws = await stageWorkspace({ workspace: '/src/app', sessionDir, diskBytes: 1 << 30 });
 *   try { await backend.launch({ ...spec, workspace: { hostPath: ws.merged, sandboxPath: '/src/app' } }); }
 *   finally { await ws.release(); }
 */
export async function stageWorkspace(opts: StageOptions): Promise<StagedWorkspace> {
  let ws: string;
  try {
    ws = realpathSync(opts.workspace);
  } catch {
    throw new AirlockError('workspace-missing', `workspace ${opts.workspace}: no such directory`, 'pass an existing directory with --workspace', 2);
  }
  if (!statSync(ws).isDirectory()) throw new AirlockError('workspace-missing', `workspace ${ws}: not a directory`, 'pass a directory with --workspace', 2);
  if (opts.diskBytes !== undefined && (!Number.isSafeInteger(opts.diskBytes) || opts.diskBytes < 1 << 20)) {
    throw new AirlockError('workspace-disk', `disk limit ${opts.diskBytes}: must be a whole number of bytes, at least 1 MiB`, 'set runtime.limits.disk to e.g. 2GiB', 2);
  }
  const sessionDir = resolve(opts.sessionDir);
  mkdirSync(sessionDir, { recursive: true, mode: 0o700 });
  const sdReal = realpathSync(sessionDir);
  if (sdReal === ws || sdReal.startsWith(ws + sep) || ws.startsWith(sdReal + sep)) {
    throw new AirlockError('workspace-overlap', `workspace ${ws} and session directory ${sdReal} overlap`, 'set AIRLOCK_HOME to a directory outside the workspace', 2);
  }
  const dir = join(sdReal, 'workspace');
  if (existsSync(join(dir, 'stage.json'))) throw new AirlockError('workspace-exists', `${dir}: this session already has a staged workspace`, 'use a new session', 1);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);

  writeManifest(join(dir, 'baseline.json'), takeManifest(ws));

  const want = opts.mode ?? 'auto';
  let reason: string | undefined;
  if (want !== 'copy') {
    const why = overlayBlocker(ws, dir);
    if (!why) {
      try {
        return await stageOverlay(ws, dir, opts);
      } catch (err) {
        reason = `overlayfs mount failed: ${(err as Error).message.replace(/\s+/g, ' ').trim()}`;
      }
    } else {
      reason = why;
    }
    if (want === 'overlay') throw new AirlockError('workspace-overlay', `cannot stage ${ws} with overlayfs: ${reason}`, 'run as root on a filesystem that supports overlayfs, or use copy mode', 1);
  } else {
    reason = 'copy mode requested';
  }
  return stageCopy(ws, dir, opts, reason);
}

function overlayBlocker(ws: string, dir: string): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root (overlayfs mounts need CAP_SYS_ADMIN)';
  if (OVERLAY_UNSAFE.test(ws) || OVERLAY_UNSAFE.test(dir)) return 'a path contains a comma, colon, backslash or space, which overlayfs options cannot carry';
  return undefined;
}

async function stageOverlay(ws: string, dir: string, opts: StageOptions): Promise<StagedWorkspace> {
  const merged = join(dir, 'merged');
  const diskUpper = join(dir, 'upper');
  let liveUpper = diskUpper;
  let work = join(dir, 'work');
  let tmpfs: string | undefined;
  const cleanup = async (): Promise<void> => {
    await unmountAll(dir).catch(() => {});
  };
  try {
    if (opts.diskBytes !== undefined) {
      tmpfs = join(dir, 'layer');
      mkdirSync(tmpfs, { mode: 0o700 });
      const r = await exec('mount', ['-t', 'tmpfs', '-o', `size=${opts.diskBytes},mode=0700,nosuid,nodev`, 'airlock-layer', tmpfs]);
      if (r.code !== 0) throw new Error(`tmpfs: ${r.stderr.trim() || `exit ${r.code}`}`);
      liveUpper = join(tmpfs, 'upper');
      work = join(tmpfs, 'work');
    }
    mkdirSync(liveUpper, { recursive: true });
    mkdirSync(work, { recursive: true, mode: 0o700 });
    mkdirSync(merged, { recursive: true });
    // The merged root takes the upper root's owner and mode: mirror the repository's.
    const st = statSync(ws);
    chownSync(liveUpper, st.uid, st.gid);
    chmodSync(liveUpper, st.mode & 0o7777);
    const mountOptions = ['nosuid', 'nodev', ...(opts.exec ? [] : ['noexec'])];
    const o = [`lowerdir=${ws}`, `upperdir=${liveUpper}`, `workdir=${work}`, 'redirect_dir=on', 'metacopy=off', 'index=off', 'xino=off', ...mountOptions].join(',');
    const r = await exec('mount', ['-t', 'overlay', 'airlock-workspace', '-o', o, merged]);
    if (r.code !== 0) throw new Error(r.stderr.trim() || `mount exit ${r.code}`);
    const state: StageState = {
      v: 1, mode: 'overlay', workspace: ws, dir, merged, upper: diskUpper, liveUpper, work, tmpfs,
      diskBytes: opts.diskBytes, diskLimit: tmpfs ? 'tmpfs' : 'none', mountOptions, createdAt: new Date().toISOString(),
    };
    writeStageState(state);
    return handle(state);
  } catch (err) {
    await cleanup();
    for (const p of [merged, work, liveUpper, tmpfs]) if (p && !mountsUnder(p).length) rmSync(p, { recursive: true, force: true });
    throw err;
  }
}

async function stageCopy(ws: string, dir: string, opts: StageOptions, reason: string | undefined): Promise<StagedWorkspace> {
  const merged = join(dir, 'merged');
  const r = await exec('cp', ['-a', '--reflink=auto', '--', `${ws}/.`, `${merged}/`]).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message }));
  if (r.code !== 0) {
    // cp -a may fail on ownership/xattrs as non-root; retry keeping modes and times only.
    rmSync(merged, { recursive: true, force: true });
    const r2 = await exec('cp', ['-R', '--preserve=mode,timestamps,links', '--no-dereference', '--', `${ws}/.`, `${merged}/`]);
    if (r2.code !== 0) throw new AirlockError('workspace-copy', `copying ${ws} to ${merged} failed: ${r2.stderr.trim()}`, 'check free disk space under AIRLOCK_HOME', 1);
  }
  writeManifest(join(dir, 'copy-manifest.json'), takeManifest(merged));
  const state: StageState = {
    v: 1, mode: 'copy', reason, workspace: ws, dir, merged, upper: merged, liveUpper: merged,
    diskBytes: opts.diskBytes, diskLimit: 'none', mountOptions: [], createdAt: new Date().toISOString(),
  };
  writeStageState(state);
  return handle(state);
}

function handle(state: StageState): StagedWorkspace {
  return {
    mode: state.mode,
    reason: state.reason,
    merged: state.merged,
    upper: state.liveUpper,
    lower: state.workspace,
    mountOptions: state.mountOptions,
    diskLimit: state.diskLimit,
    release: () => releaseStage(join(state.dir, '..')),
  };
}

/**
 * Finishes a stage after the agent exited: unmounts the overlay,
 * moves a tmpfs upper layer to disk. Idempotent; also recovers a session whose airlock died.
 */
export async function releaseStage(sessionDir: string): Promise<void> {
  const s = readStageState(sessionDir);
  if (s.releasedAt || s.discardedAt) return;
  if (s.mode === 'overlay') {
    if (isMountPoint(s.merged)) await unmountAll(s.merged);
    if (s.tmpfs && isMountPoint(s.tmpfs)) {
      rmSync(s.upper, { recursive: true, force: true });
      const r = await exec('cp', ['-a', '--', s.liveUpper, s.upper]);
      if (r.code !== 0) throw new AirlockError('workspace-release', `copying the session layer ${s.liveUpper} to ${s.upper} failed: ${r.stderr.trim()}`, `the layer is still mounted at ${s.tmpfs}; free disk space and run \`airlock diff\` again`, 1);
      await unmountAll(s.tmpfs);
    }
    s.liveUpper = s.upper;
  }
  s.releasedAt = new Date().toISOString();
  writeStageState(s);
}

/** A merged view of a stage to read changes through; `close()` unmounts it when it was made for this. */
export interface StageView {
  /** Directory showing the session's tree (overlay: merged view; copy: the copy). */
  root: string;
  close(): Promise<void>;
}

/**
 * Opens the session's merged view: the live overlay while mounted, else a private read-only
 * overlay `lowerdir=upper:lower` (root only) that the kernel resolves exactly as the session saw
 * it — whiteouts, opaque and redirected directories included.
 */
export async function openView(s: StageState): Promise<StageView> {
  if (s.mode === 'copy' || isMountPoint(s.merged)) return { root: s.merged, close: async () => {} };
  const view = join(s.dir, `view-${randomBytes(4).toString('hex')}`);
  mkdirSync(view, { mode: 0o700 });
  const o = `ro,lowerdir=${s.liveUpper}:${s.workspace},redirect_dir=follow,metacopy=off,index=off,xino=off,nosuid,nodev,noexec`;
  const r = await exec('mount', ['-t', 'overlay', 'airlock-view', '-o', o, view]).catch((e: Error) => ({ code: 1, stderr: e.message, stdout: '' }));
  if (r.code !== 0) {
    rmSync(view, { recursive: true, force: true });
    throw new AirlockError('workspace-view', `cannot mount a read-only view of the staged layer ${s.liveUpper}: ${r.stderr.trim()}`, 'reading an overlay-staged session needs root (the same user that ran the session)', 1);
  }
  return {
    root: view,
    close: async () => {
      await unmountAll(view);
      rmSync(view, { recursive: true, force: true });
    },
  };
}

/** Removes the staged layers (unmounting first). Keeps stage.json and the manifests' record. */
export async function discardStage(sessionDir: string): Promise<void> {
  const s = readStageState(sessionDir);
  await unmountAll(s.dir);
  if (mountsUnder(s.dir).length) throw new AirlockError('workspace-busy', `${s.dir}: still mounted`, 'stop whatever uses the session and retry', 1);
  const views = readdirSync(s.dir).filter((n) => n.startsWith('view-'));
  for (const name of ['merged', 'upper', 'work', 'layer', 'copy-manifest.json', ...views]) {
    const p = join(s.dir, name);
    if (!isAbsolute(p) || !p.startsWith(s.dir + sep)) continue;
    rmSync(p, { recursive: true, force: true });
  }
  s.discardedAt = new Date().toISOString();
  writeStageState(s);
}
