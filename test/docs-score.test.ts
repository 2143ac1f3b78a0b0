/**
 * Keeps docs/score.md in step with the scorer: every finding id the code can produce (extracted
 * from src/review/rules/*.ts, src/review/secret-patterns.ts and src/review/session.ts) must appear
 * in the doc as `category/rule`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECRET_PATTERNS } from '../src/review/secret-patterns.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '../..');

/**
 * Ids from one source file. Rules report through `mk(v, 'rule', 'category', ...)`, through local
 * helpers `at('rule', ...)` whose category is the one in the helper's own `mk(v, id, 'category'`
 * call just before, and through `finding(file, 'rule', ...)` (files.ts, category in its `mk`).
 */
function idsIn(file: string): { ids: Set<string>; calls: number; resolved: number } {
  const text = readFileSync(join(root, file), 'utf8');
  const ids = new Set<string>();
  let category: string | undefined;
  let calls = 0;
  let resolved = 0;
  const re = /\bmk\(\s*[^,()]+,\s*(?:'([a-z0-9-]+)'|([\w.]+)),\s*'([a-z-]+)'|\bat\('([a-z0-9-]+)'|\bfinding\(\s*\w+,\s*'([a-z0-9-]+)'/g;
  for (const m of text.matchAll(re)) {
    const [, lit, variable, cat, atId, findingId] = m;
    if (cat) {
      calls++;
      if (lit) {
        ids.add(`${cat}/${lit}`);
        resolved++;
      } else {
        // mk(v, id, 'category') inside a helper: the category for the helper calls that follow
        category = cat;
        if (variable === 'id' || variable === 'p.id') resolved++;
      }
    } else if (atId) {
      assert.ok(category, `${file}: at('${atId}') before any helper defining its category`);
      ids.add(`${category}/${atId}`);
    } else if (findingId) {
      const helper = /function finding\([^)]*\)[^{]*\{\s*return mk\(\w+, id, '([a-z-]+)'/.exec(text);
      assert.ok(helper, `${file}: finding() helper not recognised`);
      ids.add(`${helper[1]}/${findingId}`);
    }
  }
  return { ids, calls, resolved };
}

test('every finding id the scorer can report is listed in docs/score.md', { timeout: 30_000 }, () => {
  const files = [...readdirSync(join(root, 'src/review/rules')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => `src/review/rules/${f}`), 'src/review/session.ts'];
  const all = new Set<string>();
  for (const f of files) {
    const { ids, calls, resolved } = idsIn(f);
    // every mk(...) call site is understood: a literal id, or a helper's `id`/`p.id` parameter
    const text = readFileSync(join(root, f), 'utf8');
    const sites = [...text.matchAll(/\bmk\(/g)].length - (/function mk\(/.test(text) ? 1 : 0);
    assert.equal(calls, sites, `${f}: a mk(...) call this test cannot read`);
    assert.equal(resolved, calls, `${f}: a mk(...) call with a computed id this test does not resolve`);
    for (const id of ids) all.add(id);
  }
  for (const p of SECRET_PATTERNS) all.add(`secrets/${p.id}`);
  // sanity: the extraction sees the rules it must (a blind regex would pass vacuously)
  for (const id of ['ci-config/pr-target-checkout', 'exfiltration/reverse-shell', 'destructive/tests-deleted', 'destructive/force-push', 'permission-change/setuid', 'secrets/github-token', 'session/exfiltration-attempt']) {
    assert.ok(all.has(id), `expected ${id} among the extracted ids`);
  }
  assert.ok(all.size >= 100, `only ${all.size} ids extracted`);
  const doc = readFileSync(join(root, 'docs/score.md'), 'utf8');
  const missing = [...all].filter((id) => !doc.includes(`\`${id}\``)).sort();
  assert.deepEqual(missing, [], 'finding ids missing from docs/score.md');
});
