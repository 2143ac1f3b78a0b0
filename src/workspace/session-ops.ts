/**
 * Session-level staging operations behind `airlock diff|apply|discard`: resolve `SESSION|last`,
 * refuse on a running session, recover an unreleased stage (airlock died mid-session), and keep
 * `session.json`'s status in step ('applied', 'discarded').
 */
import { readSessionMeta, resolveSession, sessionDir, writeSessionMeta, type SessionMeta } from '../session/store.js';
import { AirlockError } from '../util/errors.js';
import { applyChanges, commitApplied, type ApplyResult } from './apply.js';
import { openChanges, type OpenChangeSet } from './changes.js';
import { exec } from './mounts.js';
import { discardStage, readStageState, releaseStage } from './stage.js';

function isAlive(pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the session is still running (status 'running' and, when recorded, its pid alive). */
export function sessionIsRunning(meta: SessionMeta): boolean {
  if (meta.status !== 'running') return false;
  const pid = meta.pid ?? meta.airlockPid;
  return pid === undefined ? true : isAlive(pid);
}

function refuseRunning(meta: SessionMeta, verb: string): void {
  if (sessionIsRunning(meta)) {
    throw new AirlockError('session-running', `session ${meta.id} is still running: cannot ${verb} it`, 'wait for `airlock run` to finish (or stop it), then retry', 1);
  }
}

export interface ResolvedSession {
  id: string;
  dir: string;
  meta: SessionMeta;
}

export function openSession(ref: string | undefined): ResolvedSession {
  const id = resolveSession(ref);
  return { id, dir: sessionDir(id), meta: readSessionMeta(id) };
}

/**
 * The change set of a session (live when it is running), open for reading contents: call
 * `set.close()` when done. Recovers an unreleased stage of a dead session first.
 */
export async function diffSession(ref: string | undefined): Promise<ResolvedSession & { set: OpenChangeSet }> {
  const s = openSession(ref);
  readStageState(s.dir);
  if (!sessionIsRunning(s.meta)) await releaseStage(s.dir);
  return { ...s, set: await openChanges(s.dir) };
}

/** Applies a session's staged changes to its workspace; marks it 'applied'. */
export async function applySession(ref: string | undefined, opts: { commit?: { message: string } } = {}): Promise<ResolvedSession & { result: ApplyResult }> {
  const s = openSession(ref);
  refuseRunning(s.meta, 'apply');
  if (s.meta.status === 'applied') throw new AirlockError('session-applied', `session ${s.id} was already applied${typeof s.meta.appliedAt === 'string' ? ` at ${s.meta.appliedAt}` : ''}`, 'start a new session for further changes', 1);
  if (s.meta.status === 'discarded') throw new AirlockError('session-discarded', `session ${s.id} was discarded: nothing to apply`, undefined, 1);
  readStageState(s.dir);
  await releaseStage(s.dir);
  if (opts.commit) await assertGitRepo(readStageState(s.dir).workspace);
  const result = await applyChanges(s.dir, { sessionId: s.id });
  const meta = readSessionMeta(s.id);
  meta.status = 'applied';
  meta.appliedAt = new Date().toISOString();
  meta.appliedChanges = result.applied.length;
  writeSessionMeta(meta);
  if (opts.commit) {
    Object.assign(result, await commitApplied(s.dir, result, opts.commit.message, s.id));
    if (result.commit) {
      meta.appliedCommit = result.commit;
      writeSessionMeta(meta);
    }
  }
  return { ...s, meta, result };
}

/** Removes a session's staged layers; marks it 'discarded' (an applied session stays 'applied'). */
export async function discardSession(ref: string | undefined): Promise<ResolvedSession> {
  const s = openSession(ref);
  refuseRunning(s.meta, 'discard');
  readStageState(s.dir);
  await discardStage(s.dir);
  const meta = readSessionMeta(s.id);
  if (meta.status !== 'applied') meta.status = 'discarded';
  meta.discardedAt = new Date().toISOString();
  writeSessionMeta(meta);
  return { ...s, meta };
}

async function assertGitRepo(root: string): Promise<void> {
  const r = await exec('git', ['rev-parse', '--show-toplevel'], { cwd: root }).catch(() => ({ code: 1 }));
  if (r.code !== 0) throw new AirlockError('apply-not-git', `${root}: not a git repository, cannot --commit`, 'apply without --commit, or run `git init` first', 1);
}
