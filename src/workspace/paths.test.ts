import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ancestors, checkRelPath, isGitInternal, resolveInside } from './paths.js';

test('checkRelPath refuses absolute, dot-dot, dot, empty components, NUL and .git', () => {
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a/./b', 'a//b', 'a/', 'a\0b', '.git/config', 'sub/.git/hooks/x', '..']) {
    assert.throws(() => checkRelPath(bad), /refusing path/, JSON.stringify(bad));
  }
  for (const ok of ['a', 'a/b.txt', '..foo', 'foo..', '.gitignore', '.github/x', 'sp ace', 'ü']) assert.equal(checkRelPath(ok), ok);
  assert.equal(isGitInternal('.gitmodules'), false);
  assert.deepEqual(ancestors('a/b/c'), ['a', 'a/b']);
});

test('resolveInside reports a symlink or file ancestor instead of following it', () => {
  const root = mkdtempSync(join(tmpdir(), 'airlock-paths-'));
  try {
    mkdirSync(join(root, 'real'));
    symlinkSync('/tmp', join(root, 'link'));
    writeFileSync(join(root, 'file'), '');
    assert.equal(resolveInside(root, 'real/x').badAncestor, undefined);
    assert.equal(resolveInside(root, 'new/dir/x').badAncestor, undefined);
    assert.equal(resolveInside(root, 'link/x').badAncestor, 'link');
    assert.equal(resolveInside(root, 'file/x').badAncestor, 'file');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
