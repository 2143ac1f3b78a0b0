/**
 * What a rule needs to know about a changed file beyond its lines: what kind of file it is
 * (workflow, doc, test, agent config…), whether an added line sits inside a fenced code block of
 * a Markdown document, whether it is a comment, and the YAML/JSON keys that enclose it.
 * Context is what separates an alarm from an example: `curl … | sh` in a security guide's code
 * fence is documentation; the same line in a postinstall script is an attack.
 */
import { LEVELS, type FileDiff, type HunkLine, type Severity } from './types.js';

export interface FileView {
  diff: FileDiff;
  path: string;
  lower: string;
  base: string;
  ext: string;
  isDoc: boolean;
  isSecurityDoc: boolean;
  isTest: boolean;
  isWorkflow: boolean;
  isAgentInstructions: boolean;
  isLocale: boolean;
  isVendored: boolean;
  /** Added lines only. */
  added: HunkLine[];
  /** Lines present in the new file (context and added), in order. */
  after: HunkLine[];
  /** For each entry of `after`: inside a fenced code block (Markdown) or not. */
  fenced: boolean[];
  /** Index into `after` for each added line (parallel to `added`). */
  afterIndex: number[];
}

const DOC_EXT = new Set(['md', 'mdx', 'markdown', 'rst', 'adoc', 'txt', 'textile', 'org', 'rdoc']);
const LOCALE_RE = /(^|\/)(locales?|i18n|l10n|translations?|lang)\/|\.(po|pot|xliff|xlf|strings|resx|arb)$/;

export function isTestPath(lower: string): boolean {
  return /(^|\/)(tests?|__tests__|spec|specs|testdata|test-data|fixtures?|__fixtures__|__snapshots__|e2e|testing)\//.test(lower) || /(\.|_|-)(test|spec)s?\.[a-z0-9]+$/.test(lower) || /(^|\/)test_[^/]+\.py$/.test(lower) || /_test\.go$/.test(lower);
}

export function isAgentInstructionPath(lower: string): boolean {
  return (
    /(^|\/)(claude|agents|gemini|copilot-instructions|\.?cursorrules|\.windsurfrules|\.clinerules|conventions)\.md$/.test(lower) ||
    /(^|\/)\.cursorrules$|(^|\/)\.windsurfrules$|(^|\/)\.clinerules(\/|$)/.test(lower) ||
    /(^|\/)\.cursor\/rules\//.test(lower) ||
    /(^|\/)\.github\/(instructions|prompts|chatmodes)\//.test(lower) ||
    /(^|\/)\.claude\/(commands|agents)\//.test(lower) ||
    /(^|\/)\.amazonq\/rules\//.test(lower) ||
    /(^|\/)\.continue\/|(^|\/)\.roo\/|(^|\/)\.kiro\/steering\//.test(lower)
  );
}

export function fileView(diff: FileDiff): FileView {
  const path = diff.path;
  const lower = path.toLowerCase();
  const base = lower.slice(lower.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  const ext = dot > 0 ? base.slice(dot + 1) : '';
  const notDocTxt = ext === 'txt' && (/^(cmakelists|requirements[\w.-]*|constraints[\w.-]*|robots|dependencies|packages)\.txt$/.test(base) || /(^|\/)(requirements|deps)\//.test(lower));
  const isDoc = (DOC_EXT.has(ext) && !notDocTxt) || (/(^|\/)(docs?|documentation)\//.test(lower) && !/\.(ya?ml|json|sh|js|ts|py|toml|cfg|ini)$/.test(lower) && ext !== '');
  const isAgentInstructions = isAgentInstructionPath(lower);
  const isSecurityDoc = (isDoc && !isAgentInstructions && /secur|threat|attack|incident|vulnerab|advisor|cve|hardening|exploit|prompt-injection|injection|malware|supply-chain|red-?team|pentest|phishing|audit/.test(lower));
  const after: HunkLine[] = [];
  const added: HunkLine[] = [];
  const afterIndex: number[] = [];
  for (const l of diff.lines) {
    if (l.kind === '-') continue;
    if (l.kind === '+') {
      added.push(l);
      afterIndex.push(after.length);
    }
    after.push(l);
  }
  const fenced = isDoc || isAgentInstructions ? fenceMap(after) : new Array<boolean>(after.length).fill(false);
  return {
    diff,
    path,
    lower,
    base,
    ext,
    isDoc: isDoc || isAgentInstructions,
    isSecurityDoc,
    isTest: isTestPath(lower),
    isWorkflow: /(^|\/)\.github\/workflows\/[^/]+\.ya?ml$/.test(lower),
    isAgentInstructions,
    isLocale: LOCALE_RE.test(lower),
    isVendored: /(^|\/)(vendor|third_party|node_modules)\//.test(lower),
    added,
    after,
    fenced,
    afterIndex,
  };
}

/** Marks lines inside ``` / ~~~ fences. A hunk that starts with a bare closing fence was inside one. */
function fenceMap(after: HunkLine[]): boolean[] {
  const out = new Array<boolean>(after.length).fill(false);
  let inside = false;
  let marker = '';
  let hunk = -1;
  for (let i = 0; i < after.length; i++) {
    const l = after[i]!;
    if (l.hunk !== hunk) {
      hunk = l.hunk;
      inside = false;
      // look ahead: first fence line of this hunk; bare fence followed by prose → we started inside
      for (let j = i; j < after.length && after[j]!.hunk === hunk; j++) {
        const m = /^\s{0,3}(```|~~~)(.*)$/.exec(after[j]!.text);
        if (m) {
          inside = m[2]!.trim() === '' && j > i && !/^\s*$/.test(after[j - 1]!.text) && looksLikeCode(after, i, j);
          marker = m[1]!;
          break;
        }
      }
    }
    const m = /^\s{0,3}(```|~~~)/.exec(l.text);
    if (m) {
      if (!inside) {
        inside = true;
        marker = m[1]!;
        out[i] = true;
      } else if (m[1] === marker) {
        inside = false;
        out[i] = true;
      } else out[i] = true;
      continue;
    }
    out[i] = inside;
  }
  return out;
}

function looksLikeCode(after: HunkLine[], from: number, to: number): boolean {
  let codeish = 0;
  let total = 0;
  for (let k = from; k < to; k++) {
    const t = after[k]!.text;
    if (!t.trim()) continue;
    total++;
    if (/[;{}()$|=]|^\s{2,}|^\s*(\$|#|\/\/|curl|npm|pip|git|sudo|echo|export|cd|rm|docker)\b/.test(t)) codeish++;
  }
  return total > 0 && codeish * 2 >= total;
}

/** A comment line in most languages (shell/Python/YAML `#`, C-family `//` `/*` `*`, HTML `<!--`, SQL `--`). */
export function isCommentLine(text: string, ext: string): boolean {
  const t = text.trimStart();
  if (t.startsWith('//') || t.startsWith('/*') || t.startsWith('* ') || t === '*' || t.startsWith('<!--')) return true;
  if (t.startsWith('#') && !t.startsWith('#!') && !/^#(include|define|if|endif|pragma|else)\b/.test(t) && ext !== 'md' && ext !== 'markdown') return true;
  if (t.startsWith('-- ') && (ext === 'sql' || ext === 'lua')) return true;
  if (t.startsWith(';') && (ext === 'ini' || ext === 'el' || ext === 'asm')) return true;
  if (t.startsWith('rem ') && (ext === 'bat' || ext === 'cmd')) return true;
  return false;
}

/** Lowers a severity by `n` steps, never below low. */
export function lower(sev: Severity, n: number): Severity {
  return LEVELS[Math.max(0, LEVELS.indexOf(sev) - n)]!;
}

/** Raises a severity by `n` steps, never above critical. */
export function raise(sev: Severity, n: number): Severity {
  return LEVELS[Math.min(LEVELS.length - 1, LEVELS.indexOf(sev) + n)]!;
}

export type LineContext = 'code' | 'comment' | 'prose' | 'fence' | 'security-fence' | 'security-prose';

/** Where an added line sits, for rules about commands and payloads. */
export function lineContext(v: FileView, addedIdx: number): LineContext {
  const ai = v.afterIndex[addedIdx]!;
  const text = v.added[addedIdx]!.text;
  if (v.isDoc) {
    const inFence = v.fenced[ai]!;
    if (v.isSecurityDoc) return inFence ? 'security-fence' : 'security-prose';
    if (inFence) return 'fence';
    // indented code blocks and inline code in prose count as examples too
    if (/^( {4}|\t)/.test(text)) return 'fence';
    return 'prose';
  }
  return isCommentLine(text, v.ext) ? 'comment' : 'code';
}

/**
 * The keys enclosing line `ai` of `after` in an indentation-structured file (YAML, or JSON
 * formatted one key per line): nearest first. `run: |` blocks report `run`.
 */
export function enclosingKeys(v: FileView, ai: number, max = 6): string[] {
  const lines = v.after;
  const start = lines[ai]!;
  let indent = indentOf(start.text);
  const keys: string[] = [];
  const own = keyOf(start.text);
  if (own) keys.push(own);
  for (let i = ai - 1; i >= 0 && keys.length < max; i--) {
    const l = lines[i]!;
    if (l.hunk !== start.hunk) break;
    if (!l.text.trim() || l.text.trim().startsWith('#')) continue;
    const ind = indentOf(l.text);
    if (ind < indent) {
      const k = keyOf(l.text);
      if (k) keys.push(k);
      indent = ind;
      if (ind === 0) break;
    }
  }
  return keys;
}

function indentOf(s: string): number {
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

function keyOf(s: string): string | null {
  const m = /^\s*(?:-\s+)?["']?([A-Za-z0-9_.@/$*:-]+?)["']?\s*:(?:\s|$|\{|\[)/.exec(s);
  return m ? m[1]! : null;
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  if (!s.length) return 0;
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Trims an excerpt to `max` characters around `at` (or the start), single line. */
export function excerpt(text: string, max = 160, at = 0): string {
  const t = text.replace(/\t/g, ' ');
  if (t.length <= max) return t.trim();
  const from = Math.max(0, Math.min(at - 40, t.length - max));
  return `${from > 0 ? '…' : ''}${t.slice(from, from + max).trim()}…`;
}
