/**
 * The baseline manifest: a metadata snapshot of the user's tree taken when a session starts
 * (type, size, mtime and ctime in ns, mode, inode — no hashing, so it is fast on large trees).
 * `airlock apply` compares each path it would touch against it and refuses when the user's tree
 * changed underneath. `.git` internals are not recorded (apply never writes there).
 *
 * The same format, taken of the private copy, tells copy mode which files the agent touched.
 */
import { lstatSync, readdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { isNotFound } from './paths.js';

export type EntryType = 'f' | 'd' | 'l' | 'o';

/** One path's metadata: [type, size, mtimeNs, ctimeNs, mode (st_mode & 0o7777), inode]. */
export type ManifestEntry = [EntryType, number, string, string, number, string];

export interface Manifest {
  v: 1;
  root: string;
  takenAt: string;
  entries: Record<string, ManifestEntry>;
}

export function entryOf(abs: string): ManifestEntry | undefined {
  let st;
  try {
    st = lstatSync(abs, { bigint: true });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const t: EntryType = st.isFile() ? 'f' : st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'o';
  return [t, Number(st.size), st.mtimeNs.toString(), st.ctimeNs.toString(), Number(st.mode & 0o7777n), st.ino.toString()];
}

/** Walks `root` (not following symlinks, skipping `.git` directories) and records every entry. */
export function takeManifest(root: string): Manifest {
  const entries: Record<string, ManifestEntry> = {};
  const walk = (absDir: string, relDir: string): void => {
    let names: string[];
    try {
      names = readdirSync(absDir);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const name of names) {
      if (name === '.git') continue;
      const rel = relDir ? `${relDir}/${name}` : name;
      const abs = join(absDir, name);
      const e = entryOf(abs);
      if (!e) continue;
      entries[rel] = e;
      if (e[0] === 'd') walk(abs, rel);
    }
  };
  walk(root, '');
  return { v: 1, root, takenAt: new Date().toISOString(), entries };
}

export function writeManifest(file: string, m: Manifest): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(m), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function readManifest(file: string): Manifest {
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

/**
 * Whether the path's current state still matches the baseline entry. Directories compare by type
 * only (adding a file inside changes a directory's mtime; apply checks the files themselves).
 */
export function sameEntry(base: ManifestEntry | undefined, now: ManifestEntry | undefined): boolean {
  if (!base || !now) return !base && !now;
  if (base[0] !== now[0]) return false;
  if (base[0] === 'd') return true;
  return base[1] === now[1] && base[2] === now[2] && base[3] === now[3] && base[4] === now[4] && base[5] === now[5];
}
