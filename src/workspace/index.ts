/**
 * workspace/ — the files door. The agent works on a staged, copy-on-write view of the repository
 * (overlayfs upper layer, or a private copy as fallback); the user's tree is written only by
 * `airlock apply`. See docs/workspace.md.
 *
 * @example
 *   const ws = await stageWorkspace({ workspace: repo, sessionDir, diskBytes: 2 ** 30 });
 *   // bind ws.merged read-write into the sandbox as the workspace, run the agent, then:
 *   await ws.release();
 *   for (const c of await sessionChanges(sessionDir)) console.log(c.kind, c.path);
 */
export { stageWorkspace, releaseStage, readStageState, type StagedWorkspace, type StageOptions, type StageMode, type StageState } from './stage.js';
export { sessionChanges, collectChanges, openChanges, publicChange, type FileChange, type ChangeSet, type OpenChangeSet } from './changes.js';
export { renderPatch, renderStat, escapeForTerminal } from './render.js';
export { applyChanges, applyChangeList, commitApplied, findConflicts, type ApplyOptions, type ApplyResult, type Conflict } from './apply.js';
export { applySession, discardSession, diffSession, sessionIsRunning } from './session-ops.js';
export { checkRelPath, resolveInside } from './paths.js';
