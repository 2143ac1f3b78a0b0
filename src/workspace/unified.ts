/**
 * Renders a change set as a git-style patch that `git apply` accepts: `diff --git` headers,
 * new/deleted file mode, old/new mode, rename from/to, full `index` lines, text hunks (Myers diff,
 * 3 lines of context, `\ No newline at end of file`), and `GIT binary patch` literals (zlib +
 * git's base85) for binary content. Content is handled as bytes (latin1 round-trip), so CRLF and
 * any encoding pass through unchanged.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { StagedChange } from './changes.js';
import { readContent } from './changes.js';

const ZERO = '0'.repeat(40);

/** git's blob id of some content: sha1("blob <len>\0" + content). */
export function gitBlobId(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

/** git's file mode for a change side: 120000 symlink, 100755 when owner-executable, else 100644. */
export function gitMode(type: 'file' | 'symlink' | 'dir', mode: number | undefined): string {
  if (type === 'symlink') return '120000';
  return (mode ?? 0o644) & 0o100 ? '100755' : '100644';
}

/** Quotes a path the way git does when it holds special bytes. */
export function quotePath(prefix: string, p: string): string {
  const bytes = Buffer.from(p, 'utf8');
  let needs = false;
  let s = '';
  for (const b of bytes) {
    if (b === 0x22) { s += '\\"'; needs = true; }
    else if (b === 0x5c) { s += '\\\\'; needs = true; }
    else if (b === 0x09) { s += '\\t'; needs = true; }
    else if (b === 0x0a) { s += '\\n'; needs = true; }
    else if (b < 0x20 || b >= 0x7f) { s += `\\${b.toString(8).padStart(3, '0')}`; needs = true; }
    else s += String.fromCharCode(b);
  }
  return needs ? `"${prefix}${s}"` : `${prefix}${p}`;
}

const B85 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~';

/** git's base85 binary-patch lines for some (already deflated) bytes. */
export function base85Lines(data: Buffer): string {
  let out = '';
  for (let off = 0; off < data.length; off += 52) {
    const chunk = data.subarray(off, Math.min(off + 52, data.length));
    const n = chunk.length;
    out += n <= 26 ? String.fromCharCode(0x41 + n - 1) : String.fromCharCode(0x61 + n - 27);
    for (let i = 0; i < n; i += 4) {
      let v = 0;
      for (let j = 0; j < 4; j++) v = v * 256 + (i + j < n ? chunk[i + j]! : 0);
      const enc: string[] = new Array(5);
      for (let k = 4; k >= 0; k--) {
        enc[k] = B85[v % 85]!;
        v = Math.floor(v / 85);
      }
      out += enc.join('');
    }
    out += '\n';
  }
  return out;
}

function literal(data: Buffer): string {
  return `literal ${data.length}\n${base85Lines(deflateSync(data))}\n`;
}

/** Splits bytes into lines, each keeping its `\n` (the last may lack it). */
function splitLines(s: string): string[] {
  if (s.length === 0) return [];
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const i = s.indexOf('\n', start);
    if (i < 0) {
      if (start < s.length) out.push(s.slice(start));
      return out;
    }
    out.push(s.slice(start, i + 1));
    start = i + 1;
  }
}

type Op = ['=' | '-' | '+', string];

const MAX_EDIT = 1500;

/** Myers' O(ND) diff on line arrays; beyond MAX_EDIT edits it falls back to replace-all (still a valid patch). */
export function diffLines(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const head: Op[] = a.slice(0, pre).map((l) => ['=', l]);
  const tail: Op[] = a.slice(a.length - suf).map((l) => ['=', l]);
  const N = A.length;
  const M = B.length;
  const max = Math.min(N + M, MAX_EDIT);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!)) x = v[off + k + 1]!;
      else x = v[off + k - 1]! + 1;
      let y = x - k;
      while (x < N && y < M && A[x] === B[y]) { x++; y++; }
      v[off + k] = x;
      if (x >= N && y >= M) { found = d; break; }
    }
  }
  let mid: Op[];
  if (found < 0) {
    mid = [...A.map((l): Op => ['-', l]), ...B.map((l): Op => ['+', l])];
  } else {
    const rev: Op[] = [];
    let x = N;
    let y = M;
    for (let d = found; d > 0; d--) {
      const vd = trace[d]!;
      const k = x - y;
      const prevK = k === -d || (k !== d && vd[off + k - 1]! < vd[off + k + 1]!) ? k + 1 : k - 1;
      const px = vd[off + prevK]!;
      const py = px - prevK;
      while (x > px && y > py) { rev.push(['=', A[x - 1]!]); x--; y--; }
      if (x === px) {
        rev.push(['+', B[y - 1]!]);
        y--;
      } else {
        rev.push(['-', A[x - 1]!]);
        x--;
      }
    }
    while (x > 0 && y > 0) { rev.push(['=', A[x - 1]!]); x--; y--; }
    mid = rev.reverse();
  }
  return [...head, ...mid, ...tail];
}

/** Unified hunks (`context` lines) for two byte strings in latin1. */
export function hunks(oldText: string, newText: string, context = 3): string {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  const ops = diffLines(a, b);
  let out = '';
  let i = 0;
  while (i < ops.length) {
    while (i < ops.length && ops[i]![0] === '=') i++;
    if (i >= ops.length) break;
    const start = Math.max(0, i - context);
    let end = i;
    // extend while the next change is within 2*context lines
    for (;;) {
      while (end < ops.length && ops[end]![0] !== '=') end++;
      let j = end;
      while (j < ops.length && ops[j]![0] === '=') j++;
      if (j < ops.length && j - end <= 2 * context) { end = j; continue; }
      break;
    }
    const stop = Math.min(ops.length, end + context);
    let oldStart = 0;
    let newStart = 0;
    for (let k = 0; k < start; k++) {
      if (ops[k]![0] !== '+') oldStart++;
      if (ops[k]![0] !== '-') newStart++;
    }
    let oldLen = 0;
    let newLen = 0;
    let body = '';
    for (let k = start; k < stop; k++) {
      const [t, line] = ops[k]!;
      if (t !== '+') oldLen++;
      if (t !== '-') newLen++;
      const mark = t === '=' ? ' ' : t;
      body += line.endsWith('\n') ? `${mark}${line}` : `${mark}${line}\n\\ No newline at end of file\n`;
    }
    const range = (s: number, n: number): string => (n === 0 ? `${s},0` : n === 1 ? `${s + 1}` : `${s + 1},${n}`);
    out += `@@ -${range(oldStart, oldLen)} +${range(newStart, newLen)} @@\n${body}`;
    i = stop;
  }
  return out;
}

function sideData(path: string | undefined): Buffer {
  return path ? readContent(path).data : Buffer.alloc(0);
}

/** The patch for one change, as a latin1 string (write it with `Buffer.from(s, 'latin1')`). */
export function renderChange(c: StagedChange): string {
  if (c.type === 'dir') return '';
  const newPath = c.path;
  const oldPath = c.kind === 'rename' ? c.oldPath! : c.path;
  const hdr = [`diff --git ${quotePath('a/', oldPath)} ${quotePath('b/', newPath)}`];
  const oldData = c.kind === 'create' ? Buffer.alloc(0) : sideData(c.oldSrc);
  const newData = c.kind === 'delete' ? Buffer.alloc(0) : sideData(c.src);
  const oldType = c.type;
  const newGit = c.kind === 'delete' ? '' : gitMode(c.type, c.mode);
  const oldGit = c.kind === 'create' ? '' : gitMode(oldType, c.oldMode);
  if (c.kind === 'create') hdr.push(`new file mode ${newGit}`);
  else if (c.kind === 'delete') hdr.push(`deleted file mode ${oldGit}`);
  else if (oldGit !== newGit) hdr.push(`old mode ${oldGit}`, `new mode ${newGit}`);
  if (c.kind === 'rename') {
    const same = oldData.equals(newData);
    hdr.push(`similarity index ${same ? 100 : 90}%`, `rename from ${quotePath('', oldPath)}`, `rename to ${quotePath('', newPath)}`);
    if (same) return `${hdr.join('\n')}\n`;
  }
  if (c.kind === 'chmod' || (c.kind !== 'create' && c.kind !== 'delete' && oldData.equals(newData))) {
    return oldGit !== newGit ? `${hdr.join('\n')}\n` : '';
  }
  const oldId = c.kind === 'create' ? ZERO : gitBlobId(oldData);
  const newId = c.kind === 'delete' ? ZERO : gitBlobId(newData);
  const modeSuffix = c.kind !== 'create' && c.kind !== 'delete' && oldGit === newGit ? ` ${newGit}` : '';
  hdr.push(`index ${oldId}..${newId}${modeSuffix}`);
  const nameA = c.kind === 'create' ? '/dev/null' : quotePath('a/', oldPath);
  const nameB = c.kind === 'delete' ? '/dev/null' : quotePath('b/', newPath);
  const binary = c.type === 'file' && (c.binary || oldData.subarray(0, 8000).includes(0) || newData.subarray(0, 8000).includes(0));
  if (binary) {
    return `${hdr.join('\n')}\nGIT binary patch\n${literal(newData)}${literal(oldData)}`;
  }
  const tab = (n: string): string => (n.includes(' ') && !n.startsWith('"') ? `${n}\t` : n);
  return `${hdr.join('\n')}\n--- ${tab(nameA)}\n+++ ${tab(nameB)}\n${hunks(oldData.toString('latin1'), newData.toString('latin1'))}`;
}

/** Stat line data for one change: [path label, added lines, removed lines, binary]. */
export function statOf(c: StagedChange): { label: string; added: number; removed: number; binary: boolean; oldBytes: number; newBytes: number } {
  const label = c.kind === 'rename' ? `${c.oldPath} => ${c.path}` : c.path;
  if (c.type === 'dir') return { label: `${label}/`, added: 0, removed: 0, binary: false, oldBytes: 0, newBytes: 0 };
  const oldData = c.kind === 'create' ? Buffer.alloc(0) : sideData(c.oldSrc);
  const newData = c.kind === 'delete' ? Buffer.alloc(0) : sideData(c.src);
  if (c.binary) return { label, added: 0, removed: 0, binary: true, oldBytes: oldData.length, newBytes: newData.length };
  let added = 0;
  let removed = 0;
  for (const [t] of diffLines(splitLines(oldData.toString('latin1')), splitLines(newData.toString('latin1')))) {
    if (t === '+') added++;
    else if (t === '-') removed++;
  }
  return { label, added, removed, binary: false, oldBytes: oldData.length, newBytes: newData.length };
}
