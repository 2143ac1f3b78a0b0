import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from './canonical.js';

/** The straightforward definition, kept as the reference for the faster loop in canonical.ts. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
}

test('canonical JSON: sorted keys (UTF-16 order), undefined dropped, same bytes as the reference definition', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, undefined, 'x'], c: undefined, 'é': true, Z: null }), '{"Z":null,"a":[1,null,"x"],"b":1,"é":true}');
  assert.equal(canonicalJson({ '\u{1F600}': 1, '\uFFFF': 2 }), '{"\u{1F600}":1,"\uFFFF":2}', 'surrogate pairs sort before U+FFFF in UTF-16 order');
  assert.equal(canonicalJson({ a: undefined }), '{}');
  assert.equal(canonicalJson([undefined, NaN, Infinity, 10n]), '[null,null,null,"10"]');
  // randomised values: the loop must give exactly what the definition gives
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const keys = ['a', 'b', 'B', 'pid', 'argv', 'cwd', 'é', '\u{1F600}', 'z', '0', '10', '9'];
  const gen = (depth: number): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.3) return [1, -2.5, 'str"\\\n', true, null, undefined, 0][Math.floor(rnd() * 7)];
    if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rnd() * 6); i > 0; i--) o[keys[Math.floor(rnd() * keys.length)]!] = gen(depth + 1);
    return o;
  };
  for (let i = 0; i < 2000; i++) {
    const v = gen(0);
    assert.equal(canonicalJson(v), reference(v));
  }
});
