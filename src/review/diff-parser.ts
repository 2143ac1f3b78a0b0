/**
 * A streaming unified-diff parser. Feed it bytes (`write(chunk)`), get one `FileDiff` per file
 * through the callback as soon as that file's section is complete, so a diff of any size is
 * scored in bounded memory (per file, not per diff).
 *
 * Understands git's extended headers (renames, copies, mode changes, new/deleted files, similarity,
 * `Binary files … differ`, `GIT binary patch` literals), plain `---`/`+++` diffs, combined diffs
 * (`diff --cc`, `@@@`), CRLF line endings, `\ No newline at end of file`, C-quoted paths with octal
 * escapes, and non-UTF-8 bytes (decoded with replacement characters; paths fall back to latin1).
 * Text before the first file (mail headers, commit messages of a `format-patch` series) and
 * between files is skipped. Wrong hunk counts are tolerated where the intent is clear (see
 * `hunkLine`); a junk line inside a hunk, a hunk header that does not parse, or input that holds
 * no diff at all is a `DiffParseError` naming the input line — never a crash.
 */
import { StringDecoder } from 'node:string_decoder';
import { inflateSync } from 'node:zlib';
import { AirlockError } from '../util/errors.js';
import type { FileDiff } from './types.js';

export class DiffParseError extends AirlockError {
  constructor(
    readonly inputLine: number,
    message: string,
    hint = 'pass a unified diff as produced by `git diff` or `git format-patch`',
  ) {
    super('diff-invalid', `diff line ${inputLine}: ${message}`, hint, 2);
  }
}

export interface ParseOptions {
  /** Keep hunk lines (needed by the rules). Default true. */
  keepLines?: boolean;
  /** Source name for messages. */
  source?: string;
}

type State = 'idle' | 'header' | 'hunk' | 'binary';

const HUNK_RE = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const COMBINED_HUNK_RE = /^(@{3,}) (.*?) \1/;
const MAX_BINARY_HEAD = 4096;

export class DiffParser {
  private decoder = new StringDecoder('utf8');
  private partial = '';
  private lineNo = 0;
  private state: State = 'idle';
  private file: FileDiff | null = null;
  private sawAnyFile = false;
  private sawText = false;
  private firstTextLine = '';
  private oldLeft = 0;
  private newLeft = 0;
  private oldNo = 0;
  private newNo = 0;
  private hunkIndex = -1;
  private parents = 1;
  private combinedLeft: number[] = [];
  private binaryLiteral: { size: number; chunks: Buffer[]; bytes: number; forward: boolean } | null = null;
  private binaryBlocks = 0;
  private readonly keepLines: boolean;

  constructor(
    private readonly onFile: (f: FileDiff) => void,
    opts: ParseOptions = {},
  ) {
    this.keepLines = opts.keepLines ?? true;
  }

  write(chunk: Buffer | string): void {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.partial = start === 0 ? text : text.slice(start);
  }

  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest.length) this.line(rest);
    if (this.state === 'hunk') {
      // a short last hunk (hand-made counts, or a diff cut at a line boundary): keep what is there
      this.oldLeft = 0;
      this.newLeft = 0;
    }
    this.finishFile();
    if (!this.sawAnyFile && this.sawText) {
      throw new DiffParseError(1, `not a unified diff (no "diff --git" or "---/+++" file header found; first line: ${JSON.stringify(this.firstTextLine.slice(0, 60))})`);
    }
  }

  private line(raw: string): void {
    this.lineNo++;
    let crlf = false;
    let l = raw;
    if (l.endsWith('\r')) {
      l = l.slice(0, -1);
      crlf = true;
    }
    if (!this.sawText && l.trim() !== '') {
      this.sawText = true;
      this.firstTextLine = l;
    }
    if (this.state === 'hunk') {
      if (this.parents === 1 ? this.hunkLine(l, crlf) : this.combinedLine(l)) return;
      // counts satisfied: fall through to header handling
      this.state = 'header';
    }
    if (this.state === 'binary') {
      if (this.binaryLine(l)) return;
      this.state = 'header';
    }
    this.headerLine(l);
  }

  /** Returns true when the line was consumed as part of the current hunk. */
  /**
   * Returns true when the line was consumed as part of the current hunk. Hand-made diffs often get
   * the hunk counts wrong; the scorer must still see every line, so it is lenient where the intent
   * is unambiguous: `+`/`-` lines right after a complete hunk extend it (they would otherwise be
   * invisible to review), and a new `diff --git`/`@@` header or the end of input closes a hunk
   * that is short. A line that is neither hunk content nor a header while lines are still
   * expected is an error.
   */
  private hunkLine(l: string, crlf: boolean): boolean {
    const f = this.file!;
    const c = l.length ? l[0] : ' ';
    if (this.oldLeft <= 0 && this.newLeft <= 0) {
      if (c === '\\') return true; // "\ No newline at end of file" after the last line
      if (c === '+' && !l.startsWith('+++ ')) return this.take(f, '+', l, crlf);
      if (c === '-' && l !== '-- ' && !l.startsWith('--- ')) return this.take(f, '-', l, crlf);
      return false;
    }
    if (l.startsWith('diff --git ') || l.startsWith('@@ ') || l.startsWith('diff --cc ')) {
      this.oldLeft = 0;
      this.newLeft = 0;
      return false;
    }
    switch (c) {
      case ' ':
      case '+':
      case '-':
        return this.take(f, c, l, crlf);
      case '\\':
        return true;
      default:
        if (this.oldLeft === Infinity) {
          this.oldLeft = 0;
          this.newLeft = 0;
          return false;
        }
        throw new DiffParseError(this.lineNo, `hunk of ${f.path} ended early: expected ${Math.max(0, this.oldLeft)} more old and ${Math.max(0, this.newLeft)} more new lines, got ${JSON.stringify(l.slice(0, 60))}`, 'the hunk header counts do not match its lines; regenerate the diff (do not edit diffs by hand)');
    }
  }

  private take(f: FileDiff, c: string, l: string, crlf: boolean): boolean {
    if (crlf) f.crlf = true;
    if (c === ' ') {
      this.oldLeft--;
      this.newLeft--;
      this.newNo++;
      this.oldNo++;
      if (this.keepLines) f.lines.push({ kind: ' ', text: l.slice(1), line: this.newNo, hunk: this.hunkIndex });
    } else if (c === '+') {
      this.newLeft--;
      this.newNo++;
      f.addedCount++;
      if (this.keepLines) f.lines.push({ kind: '+', text: l.slice(1), line: this.newNo, hunk: this.hunkIndex });
    } else {
      this.oldLeft--;
      this.oldNo++;
      f.removedCount++;
      if (this.keepLines) f.lines.push({ kind: '-', text: l.slice(1), line: this.oldNo, hunk: this.hunkIndex });
    }
    return true;
  }

  /** Combined diff (`diff --cc`): one prefix column per parent. */
  private combinedLine(l: string): boolean {
    const f = this.file!;
    const n = this.parents;
    if (this.newLeft === 0 && this.combinedLeft.every((x) => x === 0)) return l.startsWith('\\');
    if (l.startsWith('\\')) return true;
    const prefix = l.slice(0, n).padEnd(n, ' ');
    if (!/^[ +-]+$/.test(prefix)) {
      throw new DiffParseError(this.lineNo, `combined hunk of ${f.path} ended early, got ${JSON.stringify(l.slice(0, 60))}`);
    }
    const text = l.slice(n);
    const removed = prefix.includes('-');
    if (!removed) {
      this.newLeft--;
      this.newNo++;
    }
    for (let i = 0; i < n; i++) if (prefix[i] !== '+') this.combinedLeft[i] = (this.combinedLeft[i] ?? 0) - 1;
    if (!removed && prefix.includes('+')) {
      f.addedCount++;
      if (this.keepLines) f.lines.push({ kind: '+', text, line: this.newNo, hunk: this.hunkIndex });
    } else if (removed) {
      f.removedCount++;
      if (this.keepLines) f.lines.push({ kind: '-', text, line: this.newNo, hunk: this.hunkIndex });
    } else if (this.keepLines) f.lines.push({ kind: ' ', text, line: this.newNo, hunk: this.hunkIndex });
    return true;
  }

  private binaryLine(l: string): boolean {
    const f = this.file!;
    const m = /^(literal|delta) (\d+)$/.exec(l);
    if (m) {
      this.binaryBlocks++;
      const forward = this.binaryBlocks === 1;
      if (forward) f.binaryInfo = { size: m[1] === 'literal' ? Number(m[2]) : undefined };
      this.binaryLiteral = m[1] === 'literal' && forward ? { size: Number(m[2]), chunks: [], bytes: 0, forward } : null;
      return true;
    }
    if (l === '') {
      this.flushBinary();
      return true;
    }
    if (/^[A-Za-z][0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]+$/.test(l)) {
      const lit = this.binaryLiteral;
      if (lit && lit.bytes < MAX_BINARY_HEAD) {
        const data = decodeBase85Line(l);
        if (data) {
          lit.chunks.push(data);
          lit.bytes += data.length;
        }
      }
      return true;
    }
    this.flushBinary();
    return false;
  }

  private flushBinary(): void {
    const lit = this.binaryLiteral;
    if (!lit || !this.file) return;
    this.binaryLiteral = null;
    try {
      const head = inflatePrefix(Buffer.concat(lit.chunks));
      if (head) this.file.binaryInfo = { size: lit.size, head: head.subarray(0, 64) };
    } catch {
      // undecodable: keep the size only
    }
  }

  private headerLine(l: string): void {
    if (l.startsWith('diff --git ')) {
      this.startFile(l);
      const paths = parseGitHeaderPaths(l.slice(11));
      const f = this.file!;
      if (paths) {
        f.oldPath = paths[0];
        f.newPath = paths[1];
        f.path = paths[1];
      }
      return;
    }
    if (l.startsWith('diff --cc ') || l.startsWith('diff --combined ')) {
      this.startFile(l);
      const p = unquote(l.slice(l.indexOf(' ', 7) + 1));
      const f = this.file!;
      f.oldPath = p;
      f.newPath = p;
      f.path = p;
      return;
    }
    const f = this.file;
    if (l.startsWith('--- ') && (this.state !== 'header' || !f || f.lines.length > 0 || this.hunkIndex >= 0)) {
      // a plain unified diff (no git header) starts with ---/+++
      this.startFile(l);
    }
    if (this.state !== 'header' || !this.file) return; // junk between files (mail headers, commit message)
    const g = this.file;
    if (l.startsWith('@@')) {
      this.startHunk(l);
      return;
    }
    if (l.startsWith('--- ')) {
      const p = stripPrefix(unquote(stripTimestamp(l.slice(4))), 'a/');
      g.oldPath = p === null ? null : p;
      if (p === null) g.status = 'added';
      if (!g.newPath || g.path === '') g.path = p ?? g.path;
      return;
    }
    if (l.startsWith('+++ ')) {
      const p = stripPrefix(unquote(stripTimestamp(l.slice(4))), 'b/');
      g.newPath = p;
      if (p === null) {
        g.status = 'deleted';
        g.path = g.oldPath ?? g.path;
      } else g.path = p;
      return;
    }
    const kv = /^(old mode|new mode|deleted file mode|new file mode|rename from|rename to|copy from|copy to|similarity index|dissimilarity index|index|rename old|rename new) (.*)$/.exec(l);
    if (kv) {
      const [, k, v] = kv as unknown as [string, string, string];
      switch (k) {
        case 'old mode':
          g.oldMode = v;
          break;
        case 'new mode':
          g.newMode = v;
          break;
        case 'deleted file mode':
          g.status = 'deleted';
          g.oldMode = v;
          g.newPath = null;
          g.path = g.oldPath ?? g.path;
          break;
        case 'new file mode':
          g.status = 'added';
          g.newMode = v;
          g.oldPath = null;
          break;
        case 'rename from':
        case 'rename old':
          g.status = 'renamed';
          g.oldPath = unquote(v);
          break;
        case 'rename to':
        case 'rename new':
          g.status = 'renamed';
          g.newPath = unquote(v);
          g.path = g.newPath;
          break;
        case 'copy from':
          g.status = 'copied';
          g.oldPath = unquote(v);
          break;
        case 'copy to':
          g.status = 'copied';
          g.newPath = unquote(v);
          g.path = g.newPath;
          break;
        case 'similarity index':
          g.similarity = parseInt(v, 10);
          break;
        case 'index': {
          const mode = /\s(\d{6})$/.exec(v);
          if (mode && !g.newMode) {
            g.oldMode = mode[1];
            g.newMode = mode[1];
          }
          break;
        }
      }
      return;
    }
    if (l.startsWith('Binary files ') && l.endsWith(' differ')) {
      g.binary = true;
      if (/^Binary files \/dev\/null and /.test(l)) g.status = 'added';
      else if (/ and \/dev\/null differ$/.test(l)) g.status = 'deleted';
      return;
    }
    if (l === 'GIT binary patch') {
      g.binary = true;
      this.binaryBlocks = 0;
      this.state = 'binary';
      return;
    }
  }

  private startFile(header: string): void {
    this.finishFile();
    this.sawAnyFile = true;
    this.state = 'header';
    this.hunkIndex = -1;
    this.binaryLiteral = null;
    this.file = {
      oldPath: '',
      newPath: '',
      path: '',
      status: 'modified',
      binary: false,
      lines: [],
      addedCount: 0,
      removedCount: 0,
      headerLine: this.lineNo,
      crlf: false,
    };
    if (header.startsWith('diff --cc') || header.startsWith('diff --combined')) this.parents = 2;
    else this.parents = 1;
  }

  private startHunk(l: string): void {
    const f = this.file!;
    if (this.parents > 1 || l.startsWith('@@@')) {
      const m = COMBINED_HUNK_RE.exec(l);
      if (!m) throw new DiffParseError(this.lineNo, `cannot parse combined hunk header ${JSON.stringify(l.slice(0, 60))} of ${f.path}`);
      const ranges = m[2]!.split(' ');
      const parents = m[1]!.length - 1;
      const plus = ranges[ranges.length - 1]!;
      const pm = /^\+(\d+)(?:,(\d+))?$/.exec(plus);
      if (!pm || ranges.length !== parents + 1) throw new DiffParseError(this.lineNo, `cannot parse combined hunk header ${JSON.stringify(l.slice(0, 60))} of ${f.path}`);
      this.parents = parents;
      this.newNo = Number(pm[1]) - 1;
      this.newLeft = pm[2] === undefined ? 1 : Number(pm[2]);
      this.combinedLeft = ranges.slice(0, -1).map((r) => {
        const mm = /^-(\d+)(?:,(\d+))?$/.exec(r);
        return mm ? (mm[2] === undefined ? 1 : Number(mm[2])) : 0;
      });
      this.hunkIndex++;
      this.state = 'hunk';
      return;
    }
    const m = HUNK_RE.exec(l);
    if (!m && /^@@\s*(@@.*)?$/.test(l)) {
      // "@@ @@" (no ranges, some tools emit it): count nothing, number from 1
      this.oldNo = 0;
      this.newNo = 0;
      this.oldLeft = Infinity;
      this.newLeft = Infinity;
      this.hunkIndex++;
      this.state = 'hunk';
      return;
    }
    if (!m) throw new DiffParseError(this.lineNo, `cannot parse hunk header ${JSON.stringify(l.slice(0, 60))} of ${f.path || 'the first file'}`, 'a hunk header looks like "@@ -12,7 +12,9 @@"');
    this.oldNo = Number(m[1]) - 1;
    this.oldLeft = m[2] === undefined ? 1 : Number(m[2]);
    this.newNo = Number(m[3]) - 1;
    this.newLeft = m[4] === undefined ? 1 : Number(m[4]);
    if (this.oldNo < -1 || this.newNo < -1) throw new DiffParseError(this.lineNo, `bad hunk header ${JSON.stringify(l.slice(0, 60))}`);
    if (this.oldLeft === 0) this.oldNo = Number(m[1]);
    if (this.newLeft === 0) this.newNo = Number(m[3]);
    this.hunkIndex++;
    this.state = 'hunk';
  }

  private finishFile(): void {
    const f = this.file;
    if (!f) return;
    this.flushBinary();
    this.file = null;
    this.state = 'idle';
    if (f.newPath === '') f.newPath = f.path || null;
    if (f.oldPath === '') f.oldPath = f.status === 'added' ? null : f.path || null;
    if (!f.path) f.path = f.newPath ?? f.oldPath ?? '';
    if (!f.path) throw new DiffParseError(f.headerLine, 'file header names no path');
    if (f.status === 'added') f.oldPath = null;
    if (f.status === 'deleted') f.newPath = null;
    this.onFile(f);
  }
}

/** Parses a whole diff held in memory. */
export function parseDiff(input: Buffer | string, opts: ParseOptions = {}): FileDiff[] {
  const files: FileDiff[] = [];
  const p = new DiffParser((f) => files.push(f), opts);
  p.write(input);
  p.end();
  return files;
}

/** Parses a diff from a stream, calling `onFile` per file. */
export async function parseDiffStream(input: AsyncIterable<Buffer | string>, onFile: (f: FileDiff) => void, opts: ParseOptions = {}): Promise<void> {
  const p = new DiffParser(onFile, opts);
  for await (const chunk of input) p.write(chunk);
  p.end();
}

function stripTimestamp(s: string): string {
  // GNU diff: "--- a/file\t2024-01-01 00:00:00.000000000 +0000"; git adds a tab after names with spaces
  if (s.startsWith('"')) {
    const end = quotedEnd(s, 0);
    return end > 0 ? s.slice(0, end + 1) : s;
  }
  const tab = s.indexOf('\t');
  return tab >= 0 ? s.slice(0, tab) : s;
}

function stripPrefix(p: string, prefix: string): string | null {
  if (p === '/dev/null') return null;
  return p.startsWith(prefix) ? p.slice(prefix.length) : p;
}

/** `a/x b/y` (possibly C-quoted) → [x, y]. Unquoted names with spaces are split where both halves agree. */
export function parseGitHeaderPaths(rest: string): [string, string] | null {
  if (rest.startsWith('"')) {
    const end = quotedEnd(rest, 0);
    if (end < 0) return null;
    const a = unquote(rest.slice(0, end + 1));
    const bRaw = rest.slice(end + 2);
    const b = unquote(bRaw);
    return [stripPrefix(a, 'a/') ?? a, stripPrefix(b, 'b/') ?? b];
  }
  const q = rest.indexOf(' "');
  if (q >= 0) {
    const a = rest.slice(0, q);
    const b = unquote(rest.slice(q + 1));
    return [stripPrefix(a, 'a/') ?? a, stripPrefix(b, 'b/') ?? b];
  }
  // same name on both sides: "a/<x> b/<x>"
  if (rest.startsWith('a/') && (rest.length - 3) % 2 === 0) {
    const half = (rest.length - 3) / 2;
    const a = rest.slice(2, 2 + half);
    if (rest.slice(2 + half) === ` b/${a}`) return [a, a];
  }
  const sp = rest.indexOf(' b/');
  if (sp >= 0) return [stripPrefix(rest.slice(0, sp), 'a/') ?? '', rest.slice(sp + 3)];
  const parts = rest.split(' ');
  if (parts.length === 2) return [parts[0]!, parts[1]!];
  return null;
}

function quotedEnd(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '"') return i;
  }
  return -1;
}

/** Git's C-style quoting: `"a/\303\244 b.txt"` → `a/ä b.txt`. Bytes that are not UTF-8 decode as latin1. */
export function unquote(s: string): string {
  if (!(s.startsWith('"') && s.endsWith('"') && s.length >= 2)) return s;
  const bytes: number[] = [];
  const body = s.slice(1, -1);
  const esc: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, '"': 34 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && i + 1 < body.length) {
      const n = body[i + 1]!;
      if (/[0-7]/.test(n)) {
        const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1))![0];
        bytes.push(parseInt(oct, 8) & 0xff);
        i += oct.length;
        continue;
      }
      bytes.push(esc[n] ?? n.charCodeAt(0));
      i++;
      continue;
    }
    for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
  }
  const buf = Buffer.from(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return buf.toString('latin1');
  }
}

const B85 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~';
const B85_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B85.length; i++) B85_INDEX[B85.charCodeAt(i)] = i;

/** One line of git's base85 binary patch: a length char (A–Z = 1–26, a–z = 27–52) then data. */
export function decodeBase85Line(line: string): Buffer | null {
  const lc = line.charCodeAt(0);
  const len = lc >= 65 && lc <= 90 ? lc - 64 : lc >= 97 && lc <= 122 ? lc - 96 + 26 : -1;
  if (len < 0) return null;
  const data = line.slice(1);
  if (data.length % 5 !== 0) return null;
  const out = Buffer.alloc((data.length / 5) * 4);
  for (let i = 0, o = 0; i < data.length; i += 5, o += 4) {
    let acc = 0;
    for (let j = 0; j < 5; j++) {
      const v = B85_INDEX[data.charCodeAt(i + j)] ?? -1;
      if (v < 0) return null;
      acc = acc * 85 + v;
    }
    if (acc > 0xffffffff) return null;
    out.writeUInt32BE(acc, o);
  }
  return out.subarray(0, len);
}

function inflatePrefix(buf: Buffer): Buffer | null {
  if (buf.length === 0) return null;
  try {
    return inflateSync(buf, { finishFlush: 2 /* Z_SYNC_FLUSH: tolerate a truncated stream */ });
  } catch {
    return null;
  }
}
