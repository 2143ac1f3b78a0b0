#!/usr/bin/env node
// Prints precision and recall per level and per category of `airlock score` on a labelled corpus
// (default test/fixtures/prs; each <name>.diff has a <name>.label.json {level, categories, benign}).
// Needs the build (npm run build). Exit 1 when the targets are missed:
// high/critical recall 100%, benign false alarms (high/critical on benign PRs) <= 5%.
import { evaluateCorpus } from '../dist/src/review/quality.js';

const dir = process.argv[2] ?? 'test/fixtures/prs';
const q = evaluateCorpus(dir);
const pct = (x) => `${(x * 100).toFixed(1)}%`;
console.log(`corpus: ${dir}  (${q.cases.length} PRs, ${q.benignCount} benign)\n`);
console.log('level       precision  recall   tp  fp  fn');
for (const [l, v] of Object.entries(q.perLevel)) console.log(`${l.padEnd(10)}  ${pct(v.precision).padStart(9)}  ${pct(v.recall).padStart(6)}  ${String(v.tp).padStart(3)} ${String(v.fp).padStart(3)} ${String(v.fn).padStart(3)}`);
console.log('\ncategory            precision  recall   tp  fp  fn');
for (const [c, v] of Object.entries(q.perCategory)) console.log(`${c.padEnd(18)}  ${pct(v.precision).padStart(9)}  ${pct(v.recall).padStart(6)}  ${String(v.tp).padStart(3)} ${String(v.fp).padStart(3)} ${String(v.fn).padStart(3)}`);
console.log(`\nexact level accuracy: ${pct(q.exactLevelAccuracy)}`);
console.log(`high/critical recall: ${pct(q.highCriticalRecall)} (target 100%)`);
console.log(`benign false alarms:  ${pct(q.benignFalseAlarmRate)} (target <= 5%)`);
const wrong = q.cases.filter((c) => c.expected !== c.got);
if (wrong.length) {
  console.log('\nlevel mismatches:');
  for (const c of wrong) console.log(`  ${c.name}: expected ${c.expected}, got ${c.got} (score ${c.score}; categories ${c.gotCategories.join(',') || '-'})`);
}
const ok = q.highCriticalRecall === 1 && q.benignFalseAlarmRate <= 0.05;
console.log(ok ? '\ntargets met' : '\nTARGETS MISSED');
process.exit(ok ? 0 : 1);
