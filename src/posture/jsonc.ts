/**
 * A tolerant parser for JSON with comments (JSONC), as VS Code, Cursor and Gemini CLI write their
 * settings: `//` and `/* *\/` comments and trailing commas are accepted; strings are kept intact
 * (a `//` inside `"https://..."` is not a comment). Errors carry the 1-based line and column.
 *
 * Example: `parseJsonc('{ "a": 1, // note\n }')` → `{ ok: true, value: { a: 1 } }`.
 */

export type JsoncResult = { ok: true; value: unknown } | { ok: false; message: string; line: number; col: number };

/** Removes comments and trailing commas, keeping offsets' line structure (newlines survive). */
export function stripJsonc(text: string): string {
  let out = '';
  let i = 0;
  const n = text.length;
  // Pass 1: comments (replaced by spaces / kept newlines so positions stay comparable).
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"' && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, Math.min(j + 1, n));
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  // Pass 2: trailing commas before } or ] (outside strings).
  let res = '';
  i = 0;
  while (i < out.length) {
    const c = out[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < out.length && out[j] !== '"' && out[j] !== '\n') j += out[j] === '\\' ? 2 : 1;
      res += out.slice(i, Math.min(j + 1, out.length));
      i = j + 1;
    } else if (c === ',') {
      let j = i + 1;
      while (j < out.length && /\s/.test(out[j]!)) j++;
      res += out[j] === '}' || out[j] === ']' ? ' ' : ',';
      i++;
    } else {
      res += c;
      i++;
    }
  }
  return res;
}

export function parseJsonc(text: string): JsoncResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const clean = stripJsonc(body);
  try {
    return { ok: true, value: JSON.parse(clean) as unknown };
  } catch {
    // Locate the error ourselves: Node's message may quote a slice of the input (which could hold
    // a secret) and does not always give a position.
    const at = new Scanner(clean).errorAt();
    const before = clean.slice(0, at.pos);
    return { ok: false, message: `invalid JSON: ${at.what}`, line: before.split('\n').length, col: at.pos - before.lastIndexOf('\n') };
  }
}

/** A minimal JSON scanner that only reports where (and what kind of) the first syntax error is. */
class Scanner {
  private i = 0;
  constructor(private readonly s: string) {}

  errorAt(): { pos: number; what: string } {
    try {
      this.ws();
      this.value(0);
      this.ws();
      if (this.i < this.s.length) this.fail('unexpected content after the value');
      return { pos: this.s.length, what: 'syntax error' };
    } catch (e) {
      if (e instanceof ScanError) return { pos: e.pos, what: e.what };
      throw e;
    }
  }

  private fail(what: string): never {
    throw new ScanError(this.i, what);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private value(depth: number): void {
    if (depth > 512) this.fail('nested too deeply');
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    const lit = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(this.s.slice(this.i, this.i + 400));
    if (!lit) this.fail(c === undefined ? 'unexpected end of input' : 'expected a value');
    this.i += lit[0].length;
  }

  private string(): void {
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === '\\') this.i += 2;
      else if (c < ' ') this.fail('control character in string');
      else this.i++;
    }
    this.fail('unterminated string');
  }

  private object(depth: number): void {
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a property name in double quotes');
      this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      this.ws();
      this.value(depth + 1);
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.s[this.i] === '}') {
        this.i++;
        return;
      }
      this.fail("expected ',' or '}'");
    }
  }

  private array(depth: number): void {
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return;
    }
    for (;;) {
      this.ws();
      this.value(depth + 1);
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        continue;
      }
      if (this.s[this.i] === ']') {
        this.i++;
        return;
      }
      this.fail("expected ',' or ']'");
    }
  }
}

class ScanError {
  constructor(
    readonly pos: number,
    readonly what: string,
  ) {}
}

/** Plain-object guard for parsed config values. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asStringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}
