import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTextFile, walkFiles } from './fsread.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'airlock-fsread-'));
}

test('a FIFO planted as a config file does not hang the audit', (t) => {
  const d = tmp();
  try {
    const fifo = join(d, '.mcp.json');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return t.skip('mkfifo not available');
    const started = Date.now();
    const r = readTextFile(fifo);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'not-a-file');
    assert.ok(Date.now() - started < 2000);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a symlink to a device or an endless file is refused, a huge file is capped', () => {
  const d = tmp();
  try {
    symlinkSync('/dev/zero', join(d, 'settings.json'));
    const r = readTextFile(join(d, 'settings.json'));
    assert.equal(!r.ok && r.reason, 'not-a-file');
    writeFileSync(join(d, 'big.json'), Buffer.alloc(4096, 0x61));
    const big = readTextFile(join(d, 'big.json'), 1024);
    assert.equal(!big.ok && big.reason, 'too-large');
    assert.equal(readTextFile(join(d, 'missing')).ok, false);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('reading leaves the access time alone where a plain read would update it', (t) => {
  const d = tmp();
  try {
    const f = join(d, 'a.json');
    writeFileSync(f, '{"a":1}');
    const old = new Date(Date.now() - 3 * 86400_000);
    utimesSync(f, old, new Date());
    const before = statSync(f).atimeMs;
    assert.equal(readTextFile(f).ok, true);
    assert.equal(statSync(f).atimeMs, before, 'readTextFile kept atime');
    // Control: an ordinary read on this file system does change it (relatime: atime older than mtime).
    readFileSync(f);
    if (statSync(f).atimeMs === before) t.diagnostic('this file system does not update atime on read (noatime); control not applicable');
    else assert.notEqual(statSync(f).atimeMs, before);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('the walk skips dependency folders and does not follow directory symlinks', () => {
  const d = tmp();
  try {
    for (const p of ['src/a.ts', 'node_modules/x/index.js', '.git/config', 'deep/1/2/3/f.txt']) {
      const full = join(d, p);
      spawnSync('mkdir', ['-p', join(full, '..')]);
      writeFileSync(full, 'x');
    }
    symlinkSync('/', join(d, 'rootlink'));
    const files = walkFiles(d).map((f) => f.slice(d.length + 1)).sort();
    assert.deepEqual(files, ['deep/1/2/3/f.txt', 'src/a.ts']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
