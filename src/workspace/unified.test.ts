import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { base85Lines, diffLines, gitBlobId, hunks, quotePath, renderChange } from './unified.js';

test('diffLines: the edit script reproduces both sides, for any line lists', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('a\n', 'b\n', 'c\n', 'd', 'a\r\n'), { maxLength: 40 }), fc.array(fc.constantFrom('a\n', 'b\n', 'c\n', 'd', 'a\r\n'), { maxLength: 40 }), (a, b) => {
      const ops = diffLines(a, b);
      assert.deepEqual(ops.filter(([t]) => t !== '+').map(([, l]) => l), a);
      assert.deepEqual(ops.filter(([t]) => t !== '-').map(([, l]) => l), b);
    }),
    { numRuns: 300 },
  );
});

test('hunks: headers count lines the way unified diff does (0-length ranges, missing final newline)', () => {
  assert.equal(hunks('', 'x\n'), '@@ -0,0 +1 @@\n+x\n');
  assert.equal(hunks('x\n', ''), '@@ -1 +0,0 @@\n-x\n');
  assert.equal(hunks('a\nb', 'a\nc'), '@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n');
  const many = Array.from({ length: 20 }, (_, i) => `${i}\n`);
  const changed = [...many];
  changed[1] = 'one\n';
  changed[18] = 'eighteen\n';
  assert.equal((hunks(many.join(''), changed.join('')).match(/^@@/gm) ?? []).length, 2, 'distant changes make separate hunks');
});

test('git helpers: blob ids, base85 line lengths and path quoting match git', () => {
  assert.equal(gitBlobId(Buffer.from('hello\n')), 'ce013625030ba8dba906f756967f9e9ca394464a');
  assert.equal(gitBlobId(Buffer.alloc(0)), 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
  const lines = base85Lines(Buffer.alloc(60, 1)).split('\n');
  assert.equal(lines[0]![0], 'z', '52 bytes → length char z');
  assert.equal(lines[0]!.length, 1 + 65);
  assert.equal(lines[1]![0], 'H', '8 bytes → length char H');
  assert.equal(quotePath('a/', 'plain name.txt'), 'a/plain name.txt');
  assert.equal(quotePath('a/', 'tab\there'), '"a/tab\\there"');
  assert.equal(quotePath('b/', 'ü'), '"b/\\303\\274"');
});

test('random text edits (CRLF, missing newlines, empty files) render patches that git apply accepts exactly', (t) => {
  if (spawnSync('git', ['--version']).status !== 0) return t.skip('git not installed');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-unified-'));
  try {
    const line = fc.constantFrom('alpha\n', 'beta\n', 'gamma\r\n', '\n', 'tail', 'x y\n');
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), fc.array(line, { maxLength: 30 }), (a, b) => {
        const oldText = a.join('');
        const newText = b.join('');
        if (oldText === newText) return;
        writeFileSync(join(dir, 'f.txt'), oldText, 'latin1');
        writeFileSync(join(dir, 'new.txt'), newText, 'latin1');
        const patch = renderChange({ kind: 'write', type: 'file', path: 'f.txt', mode: 0o644, oldMode: 0o644, src: join(dir, 'new.txt'), oldSrc: join(dir, 'f.txt') });
        const r = spawnSync('git', ['apply', '-'], { cwd: dir, input: Buffer.from(patch, 'latin1') });
        assert.equal(r.status, 0, `git apply: ${r.stderr}\n${patch}`);
        assert.equal(readFileSync(join(dir, 'f.txt'), 'latin1'), newText);
      }),
      { numRuns: 60 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
