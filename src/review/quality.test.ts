import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { evaluateCorpus } from './quality.js';

test('labelled corpus: high/critical recall 100%, benign false alarms <= 5%, at least 60 PRs and 1/3 benign', () => {
  const q = evaluateCorpus(fileURLToPath(new URL('../../../test/fixtures/prs/', import.meta.url)));
  assert.ok(q.cases.length >= 60, `only ${q.cases.length} cases`);
  assert.ok(q.benignCount * 3 >= q.cases.length, `only ${q.benignCount} benign cases`);
  const missed = q.cases.filter((c) => (c.expected === 'high' || c.expected === 'critical') && c.got !== 'high' && c.got !== 'critical');
  assert.equal(q.highCriticalRecall, 1, `missed: ${missed.map((c) => `${c.name} (${c.got})`).join(', ')}`);
  const alarms = q.cases.filter((c) => c.benign && (c.got === 'high' || c.got === 'critical'));
  assert.ok(q.benignFalseAlarmRate <= 0.05, `false alarms: ${alarms.map((c) => c.name).join(', ')}`);
});
