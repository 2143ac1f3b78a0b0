import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { globMatches, globToRegExp } from './glob.js';
import { argvPatternToRegExp, pathGlobToRegExp } from './compile.js';

test('path globs: * stays in one segment, ** crosses segments', () => {
  const re = pathGlobToRegExp('/repos/*/pulls/**');
  assert.ok(re.test('/repos/app/pulls/1/files'));
  assert.ok(!re.test('/repos/a/b/pulls/1'));
  assert.ok(pathGlobToRegExp('/repos/acme/app/**').test('/repos/acme/app/'));
  assert.ok(!pathGlobToRegExp('/repos/acme/app/**').test('/repos/acme/apple'));
  assert.ok(pathGlobToRegExp('/v1/messages').test('/v1/messages'));
  assert.ok(!pathGlobToRegExp('/v1/messages').test('/v1/messagesX'));
  assert.ok(!pathGlobToRegExp('/a.b').test('/aXb'), 'dots are literal');
});

test('argv patterns: * matches anything, whitespace is normalised', () => {
  const re = argvPatternToRegExp('git  push --force*');
  assert.ok(re.test('git push --force'));
  assert.ok(re.test('git push --force-with-lease origin main'));
  assert.ok(!re.test('git push origin main'));
  assert.ok(argvPatternToRegExp('rm -rf */.git*').test('rm -rf a/b/.git/x'));
  assert.ok(argvPatternToRegExp('npm publish*').test('npm publish\n--tag x'), '* crosses newlines');
});

const alphabet = fc.constantFrom('a', 'b', '/', '*', '.', 'ab', '/a');
const subjectAlphabet = fc.constantFrom('a', 'b', '/', '.', 'ab', 'ba', '/a');

test('compiled globs agree with the reference matcher on random globs and subjects', () => {
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 10 }), fc.array(subjectAlphabet, { maxLength: 14 }), fc.constantFrom('path' as const, 'argv' as const), (g, s, mode) => {
      const glob = g.join('');
      const subject = s.join('');
      assert.equal(globToRegExp(glob, mode).test(subject), globMatches(glob, mode, subject), `${mode} ${JSON.stringify(glob)} vs ${JSON.stringify(subject)}`);
    }),
    { numRuns: 20000 },
  );
});

test('attack: crafted subjects cannot stall matching (no catastrophic backtracking)', () => {
  const cases: [RegExp, string][] = [
    [argvPatternToRegExp('*a*a*a*a*a*a*a*b'), 'a'.repeat(50_000)],
    [pathGlobToRegExp('/**a**a**a**a**a**b'), `/${'a'.repeat(50_000)}`],
    [pathGlobToRegExp('/*a*a*a*a*a*a*b'), `/${'a'.repeat(50_000)}`],
    [pathGlobToRegExp('/*a/*a/*a/*a/b'), `/${'a'.repeat(50_000)}`],
  ];
  for (const [re, subject] of cases) {
    const t0 = process.hrtime.bigint();
    assert.equal(re.test(subject), false);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.ok(ms < 500, `${re} took ${ms.toFixed(0)} ms`);
  }
});
