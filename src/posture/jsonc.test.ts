import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonc } from './jsonc.js';

test('JSONC: line and block comments, trailing commas, BOM', () => {
  const r = parseJsonc('\uFEFF{\n  // c\n  "a": 1, /* b */\n  "url": "https://x//y", "s": "a /* not */ b",\n  "arr": [1, 2,],\n}\n');
  assert.deepEqual(r, { ok: true, value: { a: 1, url: 'https://x//y', s: 'a /* not */ b', arr: [1, 2] } });
});

test('JSONC: escaped quotes inside strings do not end them', () => {
  const r = parseJsonc('{"a": "x\\" // y", "b": 2}');
  assert.deepEqual(r, { ok: true, value: { a: 'x" // y', b: 2 } });
});

test('JSONC: errors carry line and column and never echo the input', () => {
  const secret = 'Zq8s7d6f5g4h3j2kSECRET';
  const r = parseJsonc(`{\n  "a": 1,\n  "b": ${secret}\n}`);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.line, 3);
  assert.ok(r.col > 1);
  assert.ok(!r.message.includes(secret), r.message);
  assert.ok(!r.message.includes('Zq8s'), r.message);
});

test('JSONC: agrees with JSON.parse on JSON, and never throws on arbitrary text (property)', async () => {
  const fc = (await import('fast-check')).default;
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const r = parseJsonc(JSON.stringify(v, null, 1));
      assert.equal(r.ok, true);
      assert.deepEqual(r.ok && r.value, JSON.parse(JSON.stringify(v)));
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      const r = parseJsonc(s);
      if (!r.ok) assert.ok(r.line >= 1 && r.col >= 1);
    }),
    { numRuns: 1000 },
  );
});
