/**
 * airlock's own state stays out of the sandbox: a policy that shares a parent directory of
 * $AIRLOCK_HOME (here the whole fixture root) must not expose the host identity key (with it,
 * anyone could certify forged session keys) or other sessions' logs and staged trees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS, backendSkipReason, makeFixture, runAirlock, writePolicy } from './harness.js';

for (const backend of BACKENDS) {
  test(`${backend}: $AIRLOCK_HOME is hidden even when filesystem.read covers its parent, and a hard link to its key is masked`, { timeout: 120_000 }, async (t) => {
    const skip = backendSkipReason(backend);
    if (skip) return t.skip(skip);
    const fx = makeFixture();
    t.after(() => fx.cleanup());
    const policy = writePolicy(fx, 'policy.yaml', `version: 1\nfilesystem:\n  read: [${fx.root}]\n`);
    // A first session creates the host identity and leaves a session behind.
    const first = await runAirlock(fx, backend, policy, ['true']);
    assert.equal(first.code, 0, first.stderr);
    const identity = readdirSync(join(fx.state, 'identity'));
    assert.ok(identity.some((f) => f.endsWith('.pem')), 'the host identity key exists on the host');

    // A hard link to the key planted in the workspace beforehand is masked too (found by inode).
    const key = identity.find((f) => f.endsWith('.pem') && !f.includes('.pub'))!;
    linkSync(join(fx.state, 'identity', key), join(fx.ws, 'innocent.txt'));

    const probe = `cat innocent.txt 2>&1; for f in "$1"/identity/*; do echo "file $f"; cat "$f" 2>&1; done; echo "sessions: $(ls "$1"/sessions 2>&1 | tr '\\n' ' ')"; echo "readme: $(cat "$2" 2>&1)"`;
    const r = await runAirlock(fx, backend, policy, ['sh', '-c', probe, 'probe', fx.state, join(fx.outside, 'readme.txt')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /readme: public/, `the rest of the shared directory stays readable:\n${r.stdout}`);
    assert.doesNotMatch(r.stdout, /PRIVATE KEY/, `no key material inside:\n${r.stdout}`);
    assert.doesNotMatch(r.stdout, /sessions: \S*\d{8}T/, `no session ids listed inside:\n${r.stdout}`);
    assert.ok(existsSync(join(fx.state, 'identity')), 'the host side is untouched');
  });
}
