/**
 * From findings to a level and a score.
 *
 * - Each finding has a severity; its points are WEIGHTS[severity].
 * - score = min(100, Σ points), with at most 3 findings of one rule id counted (a repeated
 *   pattern in 40 lines is one problem, not 40).
 * - level = the highest finding severity, raised to `high` when the score reaches 100 from
 *   medium findings in at least three categories (many medium signals together).
 * - review = the policy's `review` section for that level (approvals, labels).
 */
import type { Policy } from '../policy/index.js';
import { LEVELS, levelRank, type Finding, type Level, type ScoreReport, type Severity } from './types.js';

export const WEIGHTS: Record<Severity, number> = { low: 2, medium: 10, high: 30, critical: 60 };
const PER_RULE_CAP = 3;

export const DEFAULT_REVIEW: Record<Level, { approvals: number; labels: string[] }> = {
  low: { approvals: 0, labels: ['risk:low'] },
  medium: { approvals: 1, labels: ['risk:medium'] },
  high: { approvals: 2, labels: ['risk:high'] },
  critical: { approvals: 2, labels: ['risk:critical', 'security-review'] },
};

export function scoreFindings(findings: Finding[], policy?: Policy): Pick<ScoreReport, 'level' | 'score' | 'decomposition' | 'review'> {
  const bySeverity = Object.fromEntries(LEVELS.map((l) => [l, { count: 0, points: 0 }])) as ScoreReport['decomposition']['bySeverity'];
  const byCategory: ScoreReport['decomposition']['byCategory'] = {};
  const perRule = new Map<string, number>();
  let total = 0;
  let top: Severity = 'low';
  for (const f of findings) {
    const n = (perRule.get(f.id) ?? 0) + 1;
    perRule.set(f.id, n);
    const pts = n <= PER_RULE_CAP ? WEIGHTS[f.severity] : 0;
    bySeverity[f.severity].count++;
    bySeverity[f.severity].points += pts;
    const c = (byCategory[f.category] ??= { count: 0, points: 0, maxSeverity: 'low' });
    c.count++;
    c.points += pts;
    if (levelRank(f.severity) > levelRank(c.maxSeverity)) c.maxSeverity = f.severity;
    if (levelRank(f.severity) > levelRank(top)) top = f.severity;
    total += pts;
  }
  const score = Math.min(100, total);
  let level: Level = findings.length ? top : 'low';
  let levelReason = findings.length ? `highest finding severity is ${top}` : 'no findings';
  const mediumCats = Object.values(byCategory).filter((c) => levelRank(c.maxSeverity) >= levelRank('medium')).length;
  if (score >= 100 && levelRank(level) < levelRank('high') && mediumCats >= 3) {
    level = 'high';
    levelReason = `score ${score} from medium findings in ${mediumCats} categories raises the level to high`;
  }
  return {
    level,
    score,
    decomposition: {
      method: `score = min(100, sum of finding points; at most ${PER_RULE_CAP} findings per rule count); points per severity: low ${WEIGHTS.low}, medium ${WEIGHTS.medium}, high ${WEIGHTS.high}, critical ${WEIGHTS.critical}; level = highest finding severity (raised to high when the score reaches 100 from medium findings in 3+ categories)`,
      weights: { ...WEIGHTS },
      bySeverity,
      byCategory,
      levelReason,
    },
    review: reviewFor(level, policy),
  };
}

export function reviewFor(level: Level, policy?: Policy): ScoreReport['review'] {
  const doc = policy?.document.review;
  const approvals = doc?.approvals?.[level] ?? policy?.review.approvals[level] ?? DEFAULT_REVIEW[level].approvals;
  const labels = doc?.labels?.[level] ?? DEFAULT_REVIEW[level].labels;
  return { level, approvals, labels: [...labels] };
}

export function parseLevel(text: string): Level | null {
  const t = text.toLowerCase();
  return (LEVELS as readonly string[]).includes(t) ? (t as Level) : null;
}
