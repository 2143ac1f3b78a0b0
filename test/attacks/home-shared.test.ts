/**
 * The built-in deny list under the policy that needs it: `filesystem.read: [~]` shares the whole
 * home read-only, and every credential store on the list must still be unreadable inside
 * (a plain run does not mount the home at all, so only this shape tests the list itself).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS, CANARY_FILES, backendSkipReason, makeFixture, runAirlock, writePolicy } from './harness.js';

for (const backend of BACKENDS) {
  test(`${backend}: with the home shared read-only, no credential file on the built-in deny list is readable`, { timeout: 120_000 }, async (t) => {
    const skip = backendSkipReason(backend);
    if (skip) return t.skip(skip);
    const fx = makeFixture();
    t.after(() => fx.cleanup());
    writeFileSync(join(fx.home, 'notes.txt'), 'shared-note\n');
    const policy = writePolicy(fx, 'policy.yaml', `version: 1\nfilesystem:\n  read: [${fx.home}]\n`);
    const probe = 'cat "$1/notes.txt"; home=$1; shift; for f in "$@"; do cat "$home/$f" 2>/dev/null; done; echo done';
    const r = await runAirlock(fx, backend, policy, ['sh', '-c', probe, 'probe', fx.home, ...CANARY_FILES]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /shared-note/, `the shared home is visible:\n${r.stdout}`);
    assert.match(r.stdout, /done/);
    assert.doesNotMatch(r.stdout, /CANARY-/, `a credential file was readable:\n${r.stdout}`);
  });
}
