/**
 * Glob → RegExp compilation that stays linear-time on hostile input. The subject strings (URL
 * paths the agent requests, argv it executes) are attacker-controlled, so a naive translation
 * (`*` → `.*`) would let a policy with several wildcards be stalled by a crafted path
 * (catastrophic backtracking: O(n^k) for k wildcards).
 *
 * The trick: a wildcard followed by a literal is matched *atomically* at the literal's earliest
 * occurrence — `(?=([^/]*?lit))\1` — which JavaScript cannot backtrack into. Earliest-occurrence
 * matching is exact for globs when whatever the next wildcard must absorb is allowed to it:
 * - `**` (any characters) before a literal: exact when no single-segment `*` follows later;
 * - `*` (no `/`) before a literal without `/`: exact (the absorbed characters have no `/`);
 * - `*` before a literal containing `/`: already deterministic (it must end at the next `/`).
 * The one remaining case (`**` with a later `*`) keeps a plain `.*`; such globs are rare and
 * limited by `MAX_GLOB_WILDCARDS`.
 *
 * Example: `globToRegExp('/repos/*\/pulls/**', 'path')` matches `/repos/app/pulls/1/files`.
 */

type Token = { kind: 'lit'; text: string } | { kind: 'any' } | { kind: 'seg' };

/** Globs with more wildcards than this are rejected by the schema. */
export const MAX_GLOB_WILDCARDS = 8;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function tokenize(glob: string, mode: 'path' | 'argv'): Token[] {
  const out: Token[] = [];
  let lit = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c !== '*') {
      lit += c;
      continue;
    }
    let kind: 'any' | 'seg' = mode === 'argv' ? 'any' : 'seg';
    if (glob[i + 1] === '*') {
      kind = 'any';
      i++;
    }
    if (lit) out.push({ kind: 'lit', text: lit });
    lit = '';
    const prev = out[out.length - 1];
    // Adjacent wildcards merge: `**` wins over `*`.
    if (prev && prev.kind !== 'lit') {
      if (kind === 'any') prev.kind = 'any';
    } else out.push({ kind });
  }
  if (lit) out.push({ kind: 'lit', text: lit });
  return out;
}

/** Number of wildcard groups in a glob (adjacent stars count once). */
export function countWildcards(glob: string, mode: 'path' | 'argv'): number {
  return tokenize(glob, mode).filter((t) => t.kind !== 'lit').length;
}

/**
 * Compiles a glob: in `path` mode `*` stays within one `/` segment and `**` crosses segments;
 * in `argv` mode every `*` matches any characters. The whole subject must match.
 */
export function globToRegExp(glob: string, mode: 'path' | 'argv'): RegExp {
  const tokens = tokenize(glob, mode);
  let re = '';
  let group = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'lit') {
      re += escape(t.text);
      continue;
    }
    const wild = t.kind === 'any' ? '[\\s\\S]*' : '[^/]*';
    const next = tokens[i + 1];
    const isLastLiteral = next !== undefined && i + 2 >= tokens.length;
    if (!next || isLastLiteral) {
      // Trailing wildcard, or wildcard + final literal anchored at the end: one loop, linear.
      re += wild;
      continue;
    }
    const lit = (next as { text: string }).text;
    const segLater = tokens.slice(i + 1).some((x) => x.kind === 'seg');
    const atomic = t.kind === 'any' ? !segLater : !lit.includes('/');
    if (atomic) {
      group++;
      re += `(?=(${wild.replace(/\*$/, '*?')}${escape(lit)}))\\${group}`;
      i++; // the literal is consumed inside the group
    } else re += wild;
  }
  return new RegExp(`^${re}$`);
}

/**
 * Reference matcher (dynamic programming, O(n·m)); used by tests to check `globToRegExp`.
 */
export function globMatches(glob: string, mode: 'path' | 'argv', subject: string): boolean {
  const tokens = tokenize(glob, mode);
  // positions reachable after each token
  let reach = new Set<number>([0]);
  for (const t of tokens) {
    const next = new Set<number>();
    for (const p of reach) {
      if (t.kind === 'lit') {
        if (subject.startsWith(t.text, p)) next.add(p + t.text.length);
      } else {
        for (let q = p; q <= subject.length; q++) {
          next.add(q);
          if (t.kind === 'seg' && subject[q] === '/') break;
        }
      }
    }
    reach = next;
    if (!reach.size) return false;
  }
  return reach.has(subject.length);
}
