import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessionDir, newSessionId, resolveSession, writeSessionMeta } from './store.js';

test('session ids carry milliseconds and sort in creation order, even within one millisecond', () => {
  const at = new Date('2026-11-28T18:30:00.123Z');
  const ids = Array.from({ length: 50 }, () => newSessionId(at));
  assert.match(ids[0]!, /^20261128T183000123Z-[0-9a-f]{8}$/);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});

test('`last` is the most recently created session when several start in the same second', () => {
  const home = mkdtempSync(join(tmpdir(), 'airlock-store-'));
  const saved = process.env.AIRLOCK_HOME;
  process.env.AIRLOCK_HOME = home;
  try {
    let id = '';
    for (let i = 0; i < 20; i++) {
      id = newSessionId();
      createSessionDir(id);
      writeSessionMeta({ id, createdAt: new Date().toISOString(), workspace: '/w', policyFile: 'p', policyDigest: 'd', backend: 'bwrap', argv: [], status: 'ended' });
    }
    assert.equal(resolveSession('last'), id);
  } finally {
    if (saved === undefined) delete process.env.AIRLOCK_HOME;
    else process.env.AIRLOCK_HOME = saved;
    rmSync(home, { recursive: true, force: true });
  }
});
