/**
 * Read-only file access for the audit. The audit inspects directories it does not trust (a cloned
 * repository, a home directory), so every read:
 * - opens with O_RDONLY | O_NONBLOCK | O_NOCTTY (a FIFO or device planted as `.mcp.json` cannot hang
 *   it) and O_NOATIME where permitted (not even access times change),
 * - reads regular files only (checked with fstat on the opened descriptor), up to a size cap,
 * - never writes, creates, renames or chmods anything.
 * Symlinks are followed (a home's dotfiles are often links), but the opened file must be regular.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';

export const MAX_FILE_BYTES = 2 * 1024 * 1024;

export type ReadResult = { ok: true; text: string; stat: Stats } | { ok: false; reason: 'missing' | 'not-a-file' | 'too-large' | 'unreadable'; detail: string };

const BASE_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0);

function openReadOnly(path: string): number {
  const noatime = (constants as Record<string, number>).O_NOATIME ?? 0;
  if (noatime) {
    try {
      return openSync(path, BASE_FLAGS | noatime);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
  }
  return openSync(path, BASE_FLAGS);
}

/** Reads a regular file as UTF-8, without changing it (see module doc). Never throws. */
export function readTextFile(path: string, maxBytes = MAX_FILE_BYTES): ReadResult {
  let fd: number;
  try {
    fd = openReadOnly(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return { ok: false, reason: 'missing', detail: code };
    return { ok: false, reason: 'unreadable', detail: code ?? String(err) };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { ok: false, reason: 'not-a-file', detail: 'not a regular file' };
    if (stat.size > maxBytes) return { ok: false, reason: 'too-large', detail: `${stat.size} bytes (limit ${maxBytes})` };
    // Read to EOF rather than trusting st_size: procfs and sysfs files report 0.
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(Math.max(stat.size + 1, 4096), maxBytes + 1 - n));
      const r = readSync(fd, chunk, 0, chunk.length, null);
      if (r <= 0) break;
      chunks.push(chunk.subarray(0, r));
      n += r;
      if (n > maxBytes) return { ok: false, reason: 'too-large', detail: `more than ${maxBytes} bytes` };
    }
    const buf = Buffer.concat(chunks, n);
    return { ok: true, text: buf.subarray(0, n).toString('utf8'), stat };
  } catch (err) {
    return { ok: false, reason: 'unreadable', detail: (err as NodeJS.ErrnoException).code ?? String(err) };
  } finally {
    closeSync(fd);
  }
}

export function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

export function isDir(path: string): boolean {
  return statOrUndefined(path)?.isDirectory() ?? false;
}

/** Directory entries (names), sorted; [] when missing or unreadable. */
export function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

const SKIP_DIRS = new Set(['.git', 'node_modules', '.venv', 'venv', '__pycache__', 'dist', 'build', 'target', '.next', '.cache', 'vendor', '.tox', 'coverage']);

/**
 * Walks a tree breadth-first without following directory symlinks, skipping dependency and build
 * folders; yields file paths (absolute). Bounded by depth and count so a huge repo stays fast.
 */
export function walkFiles(root: string, opts: { maxDepth?: number; maxFiles?: number; skip?: Set<string> } = {}): string[] {
  const maxDepth = opts.maxDepth ?? 6;
  const maxFiles = opts.maxFiles ?? 5000;
  const skip = opts.skip ?? SKIP_DIRS;
  const out: string[] = [];
  let level: string[] = [root];
  for (let depth = 0; depth <= maxDepth && level.length && out.length < maxFiles; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      for (const name of listDir(dir)) {
        const p = join(dir, name);
        const st = lstatOrUndefined(p);
        if (!st) continue;
        if (st.isDirectory()) {
          if (!skip.has(name)) next.push(p);
        } else if (st.isFile()) {
          out.push(p);
          if (out.length >= maxFiles) return out;
        }
      }
    }
    level = next;
  }
  return out;
}

/** 1-based line number of the first occurrence of `needle` in `text`, if any. */
export function lineOf(text: string, needle: string | RegExp): number | undefined {
  const idx = typeof needle === 'string' ? text.indexOf(needle) : text.search(needle);
  if (idx < 0) return undefined;
  return text.slice(0, idx).split('\n').length;
}
