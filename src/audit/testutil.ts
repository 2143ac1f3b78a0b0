/** Test helpers for the audit module (not exported from index.ts): a throw-away $AIRLOCK_HOME and session. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessionDir, newSessionId, writeSessionMeta } from '../session/store.js';
import { closeIndex } from './store.js';

export function withTempHome(): { home: string; cleanup: () => void } {
  const prev = process.env.AIRLOCK_HOME;
  const home = mkdtempSync(join(tmpdir(), 'airlock-audit-test-'));
  process.env.AIRLOCK_HOME = home;
  closeIndex();
  return {
    home,
    cleanup: () => {
      closeIndex();
      if (prev === undefined) delete process.env.AIRLOCK_HOME;
      else process.env.AIRLOCK_HOME = prev;
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export function makeSession(extra: Record<string, unknown> = {}): { id: string; dir: string } {
  const id = newSessionId();
  const dir = createSessionDir(id);
  writeSessionMeta({ id, createdAt: new Date().toISOString(), workspace: '/tmp/ws', policyFile: '/tmp/airlock.yaml', policyDigest: 'ab'.repeat(32), backend: 'bwrap', argv: ['sh'], status: 'running', ...extra });
  return { id, dir };
}
