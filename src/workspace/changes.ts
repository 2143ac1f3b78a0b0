/**
 * The exact list of a session's changes, computed from the staged layer against the user's tree.
 *
 * overlay mode: the upper layer says where to look, the merged view (see `openView`) says what is
 * there. In each directory the upper layer holds: a lower child missing from the view was deleted
 * (whiteout or opaque directory); a child the upper layer holds is compared with the tree by content
 * hash and mode (a copy-up without a real change is not a change); a child the upper layer does not
 * hold is unchanged when it is the very same inode as the tree's at that path, and otherwise was
 * moved there (a renamed directory): compared like any other. copy mode: walk the copy; entries whose inode/ctime/size/mode still match
 * the copy manifest are untouched; the rest are compared with the tree the same way.
 * Deleted+created pairs with identical non-empty content become renames.
 * `.git` internals are never part of the change list (listed as ignored): apply never writes there.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { entryOf, readManifest, sameEntry, type Manifest } from './manifest.js';
import { isGitInternal, isNotFound, kindAt, type Kind } from './paths.js';
import { openView, readStageState, stageDir, type StageState } from './stage.js';

/** One change of the session, relative to the user's tree. */
export interface FileChange {
  /** create | write (content changed, mode may too) | delete | rename (oldPath → path) | chmod (mode only). */
  kind: 'create' | 'write' | 'delete' | 'rename' | 'chmod';
  /** What the path is (after the change; for deletions, what it was). */
  type: 'file' | 'symlink' | 'dir';
  /** Path relative to the workspace root, `/`-separated. */
  path: string;
  /** For renames: the path it came from. */
  oldPath?: string;
  /** Permission bits after the change (st_mode & 0o7777); absent for deletions. */
  mode?: number;
  /** Permission bits before the change; absent for creations. */
  oldMode?: number;
  /** SHA-256 (hex) of the new content (symlinks: of the target string); absent for deletions and dirs. */
  sha256?: string;
  /** SHA-256 of the old content; absent for creations and dirs. */
  oldSha256?: string;
  /** Size in bytes of the new content (old content for deletions). */
  size?: number;
  /** True when either side contains a NUL byte in its first 8000 bytes (git's heuristic). */
  binary?: boolean;
  /** Symlinks: the target after the change. */
  linkTarget?: string;
  /** Symlinks: the target before the change. */
  oldLinkTarget?: string;
}

/** A change plus where to read its contents (internal to the workspace module). */
export interface StagedChange extends FileChange {
  /** Absolute path of the new content in the session layer. */
  src?: string;
  /** Absolute path of the old content in the user's tree. */
  oldSrc?: string;
  oldSize?: number;
}

export interface ChangeSet {
  state: StageState;
  changes: StagedChange[];
  /**
   * Paths deliberately left out (`.git` internals, fifos/sockets/devices), with the reason.
   * `gitExec`: a git hook or `.git/config` the session wrote — never applied, but evidence.
   */
  ignored: { path: string; reason: string; gitExec?: true }[];
  /** Paths whose state in the user's tree differs from the baseline taken at session start. */
  drifted: string[];
  warnings: string[];
}

export function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8000).includes(0);
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

interface Content {
  type: 'file' | 'symlink';
  data: Buffer;
  mode: number;
  target?: string;
}

export function readContent(abs: string): Content {
  const st = lstatSync(abs);
  if (st.isSymbolicLink()) {
    const t = readlinkSync(abs, { encoding: 'buffer' });
    return { type: 'symlink', data: t, mode: st.mode & 0o7777, target: t.toString('utf8') };
  }
  return { type: 'file', data: readFileSync(abs), mode: st.mode & 0o7777 };
}

/** A change set whose `src` paths stay readable until `close()`. */
export interface OpenChangeSet extends ChangeSet {
  close(): Promise<void>;
}

/** Computes the change set and keeps the view open for reading contents (call `close()`). */
export async function openChanges(sessionDir: string): Promise<OpenChangeSet> {
  const state = readStageState(sessionDir);
  if (state.discardedAt) {
    return { state, changes: [], ignored: [], drifted: [], warnings: ['the staged changes were discarded'], close: async () => {} };
  }
  const view = await openView(state);
  try {
    return { ...computeChanges(sessionDir, state, view.root), close: () => view.close() };
  } catch (err) {
    await view.close();
    throw err;
  }
}

/** Computes the change set of a session directory (see module doc); contents are hashed, not kept. */
export async function collectChanges(sessionDir: string): Promise<ChangeSet> {
  const open = await openChanges(sessionDir);
  await open.close();
  const { close: _c, ...set } = open;
  return set;
}

function computeChanges(sessionDir: string, state: StageState, viewRoot: string): ChangeSet {
  const out: StagedChange[] = [];
  const ignored: ChangeSet['ignored'] = [];
  const warnings: string[] = [];
  const lower = state.workspace;
  const emitDelete = (rel: string, k: Kind): void => {
    if (isGitInternal(rel)) return;
    const abs = join(lower, rel);
    if (k === 'dir') {
      out.push({ kind: 'delete', type: 'dir', path: rel, oldSrc: abs });
      return;
    }
    if (k !== 'file' && k !== 'symlink') {
      ignored.push({ path: rel, reason: 'special file in the tree' });
      return;
    }
    const c = readContent(abs);
    out.push({
      kind: 'delete', type: c.type, path: rel, oldMode: c.mode, oldSha256: sha256(c.data), size: c.data.length, oldSize: c.data.length,
      binary: c.type === 'file' ? isBinary(c.data) : false, oldLinkTarget: c.target, oldSrc: abs,
    });
  };
  /** Deletes a tree of the user's repository (contents first are emitted; order is fixed later). */
  const emitDeleteTree = (rel: string): void => {
    if (isGitInternal(rel)) return;
    const abs = join(lower, rel);
    const k = kindAt(abs);
    if (k === 'dir') {
      for (const n of safeReaddir(abs)) emitDeleteTree(`${rel}/${n}`);
    }
    if (k !== 'absent') emitDelete(rel, k);
  };
  const emitNew = (rel: string, src: string, lk: Kind): void => {
    // `src` is a file or symlink in the session layer; `lk` what the tree has at rel.
    const n = readContent(src);
    const base = { type: n.type, path: rel, mode: n.mode, sha256: sha256(n.data), size: n.data.length, linkTarget: n.target, src } as const;
    if (lk === n.type) {
      const o = readContent(join(lower, rel));
      const oh = sha256(o.data);
      const bin = n.type === 'file' && (isBinary(n.data) || isBinary(o.data));
      if (oh === base.sha256) {
        if (o.mode !== n.mode && n.type === 'file') out.push({ ...base, kind: 'chmod', oldMode: o.mode, oldSha256: oh, binary: bin, oldSrc: join(lower, rel), oldSize: o.data.length });
        return;
      }
      out.push({ ...base, kind: 'write', oldMode: o.mode, oldSha256: oh, binary: bin, oldLinkTarget: o.target, oldSrc: join(lower, rel), oldSize: o.data.length });
      return;
    }
    if (lk === 'dir') emitDeleteTree(rel);
    else if (lk !== 'absent') emitDelete(rel, lk);
    out.push({ ...base, kind: 'create', binary: n.type === 'file' && isBinary(n.data) });
  };

  if (state.mode === 'overlay') {
    const upper = state.liveUpper;
    const walk = (rel: string): void => {
      const vDir = rel ? join(viewRoot, rel) : viewRoot;
      const names = safeReaddir(vDir);
      const inUpper = new Set(safeReaddir(rel ? join(upper, rel) : upper));
      const lDir = rel ? join(lower, rel) : lower;
      if (kindAt(lDir) === 'dir') {
        const visible = new Set(names);
        for (const ln of safeReaddir(lDir)) if (!visible.has(ln)) emitDeleteTree(rel ? `${rel}/${ln}` : ln);
      }
      for (const name of names) {
        const r = rel ? `${rel}/${name}` : name;
        if (name === '.git') {
          if (inUpper.has(name)) {
            ignored.push({ path: r, reason: '.git internals are never applied' });
            if (!rel) ignored.push(...gitExecutableWrites(viewRoot, lower));
          }
          continue;
        }
        const v = join(viewRoot, r);
        const st = lstatSync(v);
        const lk = kindAt(join(lower, r));
        if (!inUpper.has(name) && lk !== 'absent' && sameInode(st, join(lower, r))) continue; // untouched lower entry
        if (st.isDirectory()) {
          if (lk !== 'dir') {
            if (lk !== 'absent') emitDelete(r, lk);
            out.push({ kind: 'create', type: 'dir', path: r, mode: st.mode & 0o7777, src: v });
          }
          walk(r);
        } else if (st.isFile() || st.isSymbolicLink()) {
          emitNew(r, v, lk);
        } else {
          ignored.push({ path: r, reason: 'fifo, socket or device node: not applied' });
        }
      }
    };
    walk('');
  } else {
    const copy = state.merged;
    const cm: Manifest = readManifest(join(stageDir(sessionDir), 'copy-manifest.json'));
    const seen = new Set<string>();
    const walk = (rel: string): void => {
      for (const name of safeReaddir(rel ? join(copy, rel) : copy)) {
        const r = rel ? `${rel}/${name}` : name;
        if (name === '.git') {
          // Changes inside an existing .git are not tracked in copy mode; a new one is reported.
          if (kindAt(join(lower, r)) === 'absent') ignored.push({ path: r, reason: '.git internals are never applied' });
          if (!rel) ignored.push(...gitExecutableWrites(copy, lower));
          continue;
        }
        seen.add(r);
        const abs = join(copy, r);
        const now = entryOf(abs);
        if (!now) continue;
        const base = cm.entries[r];
        const lk = kindAt(join(lower, r));
        if (now[0] === 'd') {
          if (lk !== 'dir') {
            if (lk !== 'absent') emitDelete(r, lk);
            out.push({ kind: 'create', type: 'dir', path: r, mode: now[4], src: abs });
          }
          walk(r);
        } else if (now[0] === 'f' || now[0] === 'l') {
          if (base && sameEntry(base, now)) continue;
          emitNew(r, abs, lk);
        } else {
          ignored.push({ path: r, reason: 'fifo, socket or device node: not applied' });
        }
      }
    };
    walk('');
    for (const r of Object.keys(cm.entries)) {
      if (seen.has(r)) continue;
      // Gone from the copy. Its parent may be gone too: each entry is listed on its own.
      const lk = kindAt(join(lower, r));
      if (lk !== 'absent') emitDelete(r, lk);
    }
  }

  const changes = pairRenames(dedupe(out));
  const drifted = driftedPaths(state, changes);
  if (drifted.length) warnings.push(`the tree changed since the session started at: ${drifted.slice(0, 10).join(', ')}${drifted.length > 10 ? ` (+${drifted.length - 10} more)` : ''}; apply will refuse`);
  return { state, changes, ignored, drifted, warnings };
}

/**
 * `.git/hooks/*` and `.git/config` (hooksPath, fsmonitor, filter drivers) that the session created
 * or changed: never applied, but evidence a reviewer needs — a prompt-injected agent plants hooks.
 * Compared by content with the tree, so a copied but unchanged file is not listed.
 */
function gitExecutableWrites(root: string, lower: string): ChangeSet['ignored'] {
  const out: ChangeSet['ignored'] = [];
  const candidates = ['.git/config', ...safeReaddir(join(root, '.git', 'hooks')).map((n) => `.git/hooks/${n}`)];
  for (const rel of candidates) {
    const now = kindAt(join(root, rel));
    if (now !== 'file' && now !== 'symlink') continue;
    const before = kindAt(join(lower, rel));
    if (before === now && sha256(readContent(join(root, rel)).data) === sha256(readContent(join(lower, rel)).data)) continue;
    out.push({ path: rel, reason: 'git hook or config written in the session: never applied, but it runs code on the next git command there', gitExec: true });
  }
  return out;
}

/** The plain change list of a session (see `FileChange`). */
export async function sessionChanges(sessionDir: string): Promise<FileChange[]> {
  const { changes } = await collectChanges(sessionDir);
  return changes.map(publicChange);
}

const KEY_ORDER: (keyof FileChange)[] = ['kind', 'type', 'path', 'oldPath', 'mode', 'oldMode', 'sha256', 'oldSha256', 'size', 'binary', 'linkTarget', 'oldLinkTarget'];

/** A change without its internal source paths, keys in a stable order. */
export function publicChange(c: StagedChange): FileChange {
  const out: Record<string, unknown> = {};
  for (const k of KEY_ORDER) if (c[k] !== undefined) out[k] = c[k];
  return out as unknown as FileChange;
}

function sameInode(st: { ino: number; mode: number }, lowerPath: string): boolean {
  try {
    const l = lstatSync(lowerPath);
    return l.ino === st.ino && (l.mode & 0o170000) === (st.mode & 0o170000);
  } catch {
    return false;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

function dedupe(list: StagedChange[]): StagedChange[] {
  const seen = new Set<string>();
  const out: StagedChange[] = [];
  for (const c of list) {
    const key = `${c.kind}\0${c.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}

/** Pairs deletions and creations of identical non-empty content (same type) into renames. */
function pairRenames(list: StagedChange[]): StagedChange[] {
  const dels = new Map<string, StagedChange[]>();
  for (const c of list) {
    if (c.kind === 'delete' && c.type !== 'dir' && c.oldSha256 && (c.size ?? 0) > 0) {
      const k = `${c.type}:${c.oldSha256}`;
      dels.set(k, [...(dels.get(k) ?? []), c]);
    }
  }
  const used = new Set<StagedChange>();
  const out: StagedChange[] = [];
  for (const c of list) {
    if (c.kind !== 'create' || c.type === 'dir' || !c.sha256 || (c.size ?? 0) === 0) continue;
    const cands = (dels.get(`${c.type}:${c.sha256}`) ?? []).filter((d) => !used.has(d));
    if (!cands.length) continue;
    const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
    const d = cands.find((x) => base(x.path) === base(c.path)) ?? cands[0]!;
    used.add(d);
    used.add(c);
    out.push({ ...c, kind: 'rename', oldPath: d.path, oldMode: d.oldMode, oldSha256: d.oldSha256, oldLinkTarget: d.oldLinkTarget, oldSrc: d.oldSrc, oldSize: d.oldSize });
  }
  for (const c of list) if (!used.has(c)) out.push(c);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Paths the change set touches whose current state differs from the baseline manifest. */
export function driftedPaths(state: StageState, changes: StagedChange[]): string[] {
  let base: Manifest;
  try {
    base = readManifest(join(state.dir, 'baseline.json'));
  } catch {
    return changes.map((c) => c.path);
  }
  const out = new Set<string>();
  for (const c of changes) {
    for (const p of c.oldPath ? [c.oldPath, c.path] : [c.path]) {
      if (!sameEntry(base.entries[p], entryOf(join(state.workspace, p)))) out.add(p);
    }
  }
  return [...out].sort();
}
