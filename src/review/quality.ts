/**
 * Corpus quality: runs the scorer over labelled diffs (`<name>.diff` + `<name>.label.json` with
 * {level, categories, benign}) and computes precision and recall per level and per category,
 * high/critical recall, and the benign false-alarm rate (high or critical on a benign PR).
 * A category counts as detected when a finding of that category has severity medium or higher.
 * Used by scripts/score-quality.mjs and by the corpus test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scoreDiffText } from './engine.js';
import { LEVELS, levelRank, type Level } from './types.js';

export interface CaseResult {
  name: string;
  expected: Level;
  got: Level;
  expectedCategories: string[];
  gotCategories: string[];
  benign: boolean;
  score: number;
}

export interface PR {
  precision: number;
  recall: number;
  tp: number;
  fp: number;
  fn: number;
}

export interface QualityReport {
  cases: CaseResult[];
  perLevel: Record<string, PR>;
  perCategory: Record<string, PR>;
  highCriticalRecall: number;
  benignFalseAlarmRate: number;
  benignCount: number;
  exactLevelAccuracy: number;
}

export function evaluateCorpus(dir: string): QualityReport {
  const cases: CaseResult[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.diff')).sort()) {
    const name = f.slice(0, -5);
    const label = JSON.parse(readFileSync(join(dir, `${name}.label.json`), 'utf8')) as { level: Level; categories: string[]; benign?: boolean };
    const r = scoreDiffText(readFileSync(join(dir, f)));
    cases.push({ name, expected: label.level, got: r.level, expectedCategories: label.categories, gotCategories: [...new Set(r.findings.filter((x) => levelRank(x.severity) >= levelRank('medium')).map((x) => x.category))].sort(), benign: !!label.benign, score: r.score });
  }
  const pr = (tp: number, fp: number, fn: number): PR => ({ tp, fp, fn, precision: tp + fp ? tp / (tp + fp) : 1, recall: tp + fn ? tp / (tp + fn) : 1 });
  const perLevel: Record<string, PR> = {};
  for (const l of LEVELS) {
    const tp = cases.filter((c) => c.expected === l && c.got === l).length;
    const fp = cases.filter((c) => c.expected !== l && c.got === l).length;
    const fn = cases.filter((c) => c.expected === l && c.got !== l).length;
    perLevel[l] = pr(tp, fp, fn);
  }
  const perCategory: Record<string, PR> = {};
  const cats = new Set(cases.flatMap((c) => [...c.expectedCategories, ...c.gotCategories]));
  for (const cat of [...cats].sort()) {
    const tp = cases.filter((c) => c.expectedCategories.includes(cat) && c.gotCategories.includes(cat)).length;
    const fp = cases.filter((c) => !c.expectedCategories.includes(cat) && c.gotCategories.includes(cat)).length;
    const fn = cases.filter((c) => c.expectedCategories.includes(cat) && !c.gotCategories.includes(cat)).length;
    perCategory[cat] = pr(tp, fp, fn);
  }
  const hc = cases.filter((c) => levelRank(c.expected) >= levelRank('high'));
  const benign = cases.filter((c) => c.benign);
  return {
    cases,
    perLevel,
    perCategory,
    highCriticalRecall: hc.length ? hc.filter((c) => levelRank(c.got) >= levelRank('high')).length / hc.length : 1,
    benignFalseAlarmRate: benign.length ? benign.filter((c) => levelRank(c.got) >= levelRank('high')).length / benign.length : 0,
    benignCount: benign.length,
    exactLevelAccuracy: cases.length ? cases.filter((c) => c.expected === c.got).length / cases.length : 1,
  };
}
