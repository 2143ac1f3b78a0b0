/**
 * Path rules for the staged workspace. Every path airlock writes into the user's tree goes through
 * `checkRelPath` (a relative, `/`-separated path with no `.`/`..`/empty components, no NUL, never
 * inside `.git`) and `resolveInside` (joins it to the root and refuses when any existing ancestor is
 * not a real directory — a symlink planted by the agent or anyone else cannot redirect a write).
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { AirlockError } from '../util/errors.js';

/** True when a relative path lies inside a `.git` directory (or is one): never staged or applied. */
export function isGitInternal(rel: string): boolean {
  return rel.split('/').some((c) => c === '.git');
}

/** Validates a relative workspace path; throws `workspace-path` naming the path otherwise. */
export function checkRelPath(rel: string, where = 'workspace'): string {
  const bad = (why: string): never => {
    throw new AirlockError('workspace-path', `${where}: refusing path ${JSON.stringify(rel)}: ${why}`, 'the staged layer holds a path that cannot be written safely; inspect it with `airlock diff --json`', 1);
  };
  if (typeof rel !== 'string' || rel.length === 0) bad('empty path');
  if (rel.includes('\0')) bad('contains NUL');
  if (rel.startsWith('/')) bad('absolute path');
  for (const c of rel.split('/')) {
    if (c === '' || c === '.' || c === '..') bad(`component "${c}" is not allowed`);
  }
  if (isGitInternal(rel)) bad('inside .git');
  return rel;
}

export type Kind = 'file' | 'dir' | 'symlink' | 'other' | 'absent';

export function kindAt(abs: string): Kind {
  try {
    const st = lstatSync(abs);
    if (st.isFile()) return 'file';
    if (st.isDirectory()) return 'dir';
    if (st.isSymbolicLink()) return 'symlink';
    return 'other';
  } catch (err) {
    if (isNotFound(err)) return 'absent';
    throw err;
  }
}

export function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Joins `rel` to `root` after `checkRelPath`, and checks every existing ancestor below the root with
 * lstat: each must be a real directory. Returns the absolute path, or the first offending ancestor.
 */
export function resolveInside(root: string, rel: string): { abs: string; badAncestor?: string } {
  checkRelPath(rel);
  const parts = rel.split('/');
  let cur = root;
  for (let i = 0; i < parts.length - 1; i++) {
    cur = join(cur, parts[i]!);
    const k = kindAt(cur);
    if (k === 'absent') break;
    if (k !== 'dir') return { abs: join(root, rel), badAncestor: parts.slice(0, i + 1).join('/') };
  }
  return { abs: join(root, rel) };
}

/** Ancestors of a relative path, shallowest first: `a/b/c` → [`a`, `a/b`]. */
export function ancestors(rel: string): string[] {
  const parts = rel.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}
