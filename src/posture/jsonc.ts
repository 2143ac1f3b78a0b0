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
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : 0;
    const before = clean.slice(0, pos);
    const line = before.split('\n').length;
    const col = pos - before.lastIndexOf('\n');
    // Never echo the input: Node's message may quote a slice of it (which could hold a secret).
    const head = msg.split(' in JSON at')[0]!;
    const what = head.includes('"') ? head.split(/[,"]/)[0]!.trim() : head;
    return { ok: false, message: `invalid JSON: ${what}`, line, col };
  }
}

/** Plain-object guard for parsed config values. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asStringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}
