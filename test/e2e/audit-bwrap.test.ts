/** The bwrap tracer against real strace + bwrap: execs with exact argv, exits, denied execs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bwrapTracer, straceAvailable } from '../../src/audit/strace-tracer.js';
import type { EventInput } from '../../src/audit/types.js';

function usable(): string | undefined {
  if (spawnSync('bwrap', ['--version']).status !== 0) return 'bwrap is not installed';
  return straceAvailable();
}

test('strace in front of bwrap records every exec (argv exact), exits, and refused execs', { timeout: 60_000 }, async (t) => {
  const why = usable();
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bwtrace-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const noexec = join(dir, 'noexec.sh');
  writeFileSync(noexec, '#!/bin/sh\necho hi\n');
  chmodSync(noexec, 0o644);
  const events: EventInput[] = [];
  const tracer = await bwrapTracer({ runDir: dir, audit: { emit: (e) => events.push(e) } });
  const script = `/bin/true a "b c" "$(printf 'x\\ty')"; ${noexec} 2>/dev/null; env FOO=airlock_ph_zzz /bin/echo done >/dev/null; exit 4`;
  const p = spawn(tracer.argvPrefix[0]!, [...tracer.argvPrefix.slice(1), 'bwrap', '--ro-bind', '/', '/', '--dev', '/dev', '--unshare-all', '--die-with-parent', '--', '/bin/sh', '-c', script], { stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  const stats = await tracer.stop();
  assert.equal(code, 4);
  assert.ok(stats.lines > 0);
  const execs = events.filter((e) => e.kind === 'process' && e.action === 'exec' && e.decision === 'allow');
  assert.equal(execs[0]!.subject, '/bin/sh', 'bwrap itself is not reported; the agent is first');
  assert.deepEqual(execs.find((e) => e.subject === '/bin/true')?.detail?.argv, ['/bin/true', 'a', 'b c', 'x\ty']);
  assert.ok(execs.some((e) => e.subject === '/usr/bin/env'));
  assert.ok(execs.some((e) => e.subject === '/bin/echo' && (e.detail?.argv as string[]).join(' ') === '/bin/echo done'));
  const denied = events.find((e) => e.kind === 'process' && e.decision === 'deny');
  assert.equal(denied?.subject, noexec);
  assert.ok(events.some((e) => e.action === 'exit' && e.subject === '/bin/sh' && e.detail?.exitCode === 4));
  assert.ok(events.some((e) => e.action === 'exit' && e.subject === '/bin/true' && e.detail?.exitCode === 0));
  assert.ok(!JSON.stringify(events).includes('airlock_ph_') || events.some((e) => JSON.stringify(e.detail?.argv).includes('FOO=')), 'env values appear only when they are argv');
  const sh = execs.find((e) => e.subject === '/bin/sh')!;
  assert.equal(execs.find((e) => e.subject === '/bin/true')?.detail?.ppid, sh.detail?.pid);
});

test('stop() returns even when the traced command never started', { timeout: 20_000 }, async (t) => {
  const why = usable();
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bwtrace-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tracer = await bwrapTracer({ runDir: dir, audit: { emit: () => {} } });
  const stats = await tracer.stop();
  assert.equal(stats.lines, 0);
});
