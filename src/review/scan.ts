/**
 * A multi-literal scanner: finds which of a few hundred keywords occur in a line in one pass,
 * ASCII case-insensitively, dispatching on the first three characters (a trigram table; tokens
 * shorter than three characters use a bigram/single table), and returns the OR of their
 * category bits. It also flags invisible/bidi code points on the way. It replaces a large regex
 * alternation (which V8 runs position by position with every alternative, ~4 µs per line) plus a
 * lower-casing copy and a separate Unicode scan.
 */

/** Bit set in `scan`'s result when the line contains a zero-width, bidi-control or tag code unit. */
export const HIDDEN_BIT = 1 << 30;

export class LiteralScanner {
  private readonly index3 = new Int32Array(128 * 128 * 128).fill(-1);
  private readonly short2 = new Int32Array(128 * 128);
  private readonly single = new Int32Array(128);
  private readonly lists: { tok: string; mask: number }[][] = [];

  /** Tokens must be lower-case ASCII. */
  constructor(tokens: Iterable<[string, number]>) {
    for (const [tok, mask] of tokens) {
      if (!tok.length) continue;
      if (!/^[\x00-\x7f]+$/.test(tok) || tok !== tok.toLowerCase()) throw new Error(`scanner token must be lower-case ASCII: ${tok}`);
      const a = tok.charCodeAt(0);
      if (tok.length === 1) {
        this.single[a]! |= mask;
        continue;
      }
      const b = tok.charCodeAt(1);
      if (tok.length === 2) {
        this.short2[a * 128 + b]! |= mask;
        continue;
      }
      const k = (a * 128 + b) * 128 + tok.charCodeAt(2);
      let li = this.index3[k]!;
      if (li < 0) {
        li = this.lists.length;
        this.lists.push([]);
        this.index3[k] = li;
      }
      this.lists[li]!.push({ tok, mask });
    }
  }

  /** OR of the masks of all tokens found in `s` (ASCII case-insensitive), plus HIDDEN_BIT. */
  scan(s: string): number {
    let mask = 0;
    const n = s.length;
    let b = n > 0 ? lowerCode(s.charCodeAt(0)) : 0;
    let c = n > 1 ? lowerCode(s.charCodeAt(1)) : 0;
    for (let i = 0; i < n; i++) {
      const a = b;
      b = c;
      c = i + 2 < n ? lowerCode(s.charCodeAt(i + 2)) : 0;
      if (a >= 128) {
        if ((a >= 0x200b && a <= 0x200d) || a === 0x2060 || a === 0xfeff || (a >= 0x202a && a <= 0x202e) || (a >= 0x2066 && a <= 0x2069) || a === 0xdb40) mask |= HIDDEN_BIT;
        continue;
      }
      mask |= this.single[a]!;
      if (b >= 128) continue;
      mask |= this.short2[a * 128 + b]!;
      if (c >= 128) continue;
      const li = this.index3[(a * 128 + b) * 128 + c]!;
      if (li < 0) continue;
      const list = this.lists[li]!;
      for (let j = 0; j < list.length; j++) {
        const e = list[j]!;
        if ((mask & e.mask) === e.mask) continue;
        if (matchesAt(s, i, e.tok)) mask |= e.mask;
      }
    }
    return mask;
  }
}

function lowerCode(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function matchesAt(s: string, i: number, tok: string): boolean {
  if (i + tok.length > s.length) return false;
  for (let k = 3; k < tok.length; k++) if (lowerCode(s.charCodeAt(i + k)) !== tok.charCodeAt(k)) return false;
  return true;
}
