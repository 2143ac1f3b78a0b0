/** Shared plumbing for rules: how a rule reports, and the finding constructor that redacts evidence. */
import { excerpt, type FileView } from '../context.js';
import { redact } from '../secret-patterns.js';
import type { Category, Finding, HunkLine, Severity } from '../types.js';

export type Report = (f: Finding) => void;

/** A rule looks at one changed file and reports findings. It never executes anything. */
export type FileRule = (v: FileView, report: Report) => void;

export function mk(
  v: FileView | string,
  id: string,
  category: Category,
  severity: Severity,
  at: HunkLine | number | null,
  evidence: string,
  why: string,
  fix: string,
): Finding {
  const line = at === null ? 0 : typeof at === 'number' ? at : at.line;
  const text = typeof at === 'object' && at !== null && evidence === '' ? at.text : evidence;
  return {
    id: `${category}/${id}`,
    category,
    severity,
    file: typeof v === 'string' ? v : v.path,
    line,
    evidence: excerpt(redact(text.length > 4000 ? text.slice(0, 4000) : text)),
    why,
    fix,
  };
}

/** Added lines matching `re`, with their index into `v.added`. */
export function* addedMatching(v: FileView, re: RegExp): Generator<[HunkLine, number, RegExpExecArray]> {
  for (let i = 0; i < v.added.length; i++) {
    const l = v.added[i]!;
    re.lastIndex = 0;
    const m = re.exec(l.text);
    if (m) yield [l, i, m];
  }
}
