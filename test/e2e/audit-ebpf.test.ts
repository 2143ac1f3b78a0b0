/** The eBPF bwrap tracer against real bpftrace + bwrap: execs with exact argv and parents, exits, refused execs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARGV_CAP, ebpfTracer, MAP_KEYS } from '../../src/audit/ebpf-tracer.js';
import type { EventInput } from '../../src/audit/types.js';
import { ebpfSkipReason, traced } from '../ebpf-support.js';
import { backendSkipReason } from '../support.js';
import { AIRLOCK, makeFixture, runAirlock, writePolicy, type Fixture } from '../attacks/harness.js';

test('eBPF tracer: every exec with its exact argv and parent, exits with codes and signals, refused execs', { timeout: 60_000 }, async (t) => {
  const why = ebpfSkipReason();
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-ebpf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const noexec = join(dir, 'noexec.sh');
  writeFileSync(noexec, '#!/bin/sh\necho hi\n');
  chmodSync(noexec, 0o644);
  const script = [`/bin/true a "b c" "$(printf 'x\\ty\\nz')" ""`, `${noexec} q "r s" 2>/dev/null`, 'env FOO=1 /bin/echo done >/dev/null', `sh -c 'kill -9 $$'`, '(/bin/sleep 0; exit 0) & wait', 'exit 4'].join('; ');
  const { code, events, failed } = await traced(dir, script);
  assert.equal(failed, undefined);
  assert.equal(code, 4);
  const execs = events.filter((e) => e.kind === 'process' && e.action === 'exec' && e.decision === 'allow');
  assert.equal(execs[0]!.subject, '/bin/sh', 'bwrap itself is not reported; the agent is first');
  assert.ok(execs.every((e) => e.detail?.source === 'ebpf'));
  const sh = execs[0]!;
  const tru = execs.find((e) => e.subject === '/bin/true')!;
  assert.deepEqual(tru.detail?.argv, ['/bin/true', 'a', 'b c', 'x\ty\nz', '']);
  assert.equal(tru.detail?.truncated, undefined);
  assert.equal(tru.detail?.ppid, sh.detail?.pid, 'the parent pid is exact');
  const env = execs.find((e) => e.subject === '/usr/bin/env')!;
  const echo = execs.find((e) => e.subject === '/bin/echo')!;
  assert.deepEqual(echo.detail?.argv, ['/bin/echo', 'done']);
  assert.equal(echo.detail?.pid, env.detail?.pid, 'env execs echo in the same process');
  const sleep = execs.find((e) => e.subject === '/bin/sleep')!;
  assert.notEqual(sleep.detail?.ppid, sh.detail?.pid, 'a subshell is the parent of what it runs');
  const denied = events.find((e) => e.kind === 'process' && e.decision === 'deny');
  assert.equal(denied?.subject, noexec);
  assert.deepEqual(denied?.detail?.argv, [noexec, 'q', 'r s']);
  assert.equal(denied?.detail?.errno, 'EACCES');
  const exits = events.filter((e) => e.action === 'exit');
  assert.ok(exits.some((e) => e.subject === '/bin/sh' && e.detail?.pid === sh.detail?.pid && e.detail?.exitCode === 4));
  assert.ok(exits.some((e) => e.subject === '/bin/true' && e.detail?.exitCode === 0));
  assert.ok(exits.some((e) => e.subject === '/bin/echo' && e.detail?.exitCode === 0), 'the exit names the last program the process ran');
  assert.ok(exits.some((e) => e.detail?.exitCode === 137 && e.detail?.signal === 'SIGKILL'), 'killed by SIGKILL: 128+9 and the name');
  assert.ok(events.every((e) => typeof e.timeMs === 'number' && Math.abs(e.timeMs - Date.now()) < 60_000), 'times are wall-clock ms');
  for (let i = 1; i < execs.length; i++) assert.ok(execs[i]!.timeMs! >= execs[i - 1]!.timeMs!, 'execs in order');
  assert.equal(existsSync(join(dir, 'exec')), false, 'the per-session symlinks are removed at stop');
});

test('eBPF tracer: an argv longer than the cap is recorded up to the cap and marked truncated', { timeout: 60_000 }, async (t) => {
  const why = ebpfSkipReason();
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-ebpf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const long = 'y'.repeat(ARGV_CAP + 5000);
  const mid = 'm'.repeat(9000); // several chunks, under the cap
  const { events } = await traced(dir, `/bin/echo ${mid} z >/dev/null; /bin/echo ${long} >/dev/null`);
  const echos = events.filter((e) => e.action === 'exec' && e.subject === '/bin/echo');
  assert.equal(echos.length, 2);
  assert.deepEqual(echos[0]!.detail?.argv, ['/bin/echo', mid, 'z']);
  assert.equal(echos[0]!.detail?.truncated, undefined);
  assert.equal(echos[1]!.detail?.truncated, true);
  const argv = echos[1]!.detail?.argv as string[];
  assert.equal(argv[0], '/bin/echo');
  assert.ok(argv[1]!.length > ARGV_CAP - 100 && /^y+$/.test(argv[1]!), 'the recorded part is exact');
});

test('eBPF tracer: stop() returns when the traced command never started', { timeout: 30_000 }, async (t) => {
  const why = ebpfSkipReason();
  if (why) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'airlock-ebpf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const events: EventInput[] = [];
  const tracer = await ebpfTracer({ runDir: dir, audit: { emit: (e) => events.push(e) } });
  spawnSync('/bin/true'); // a process outside the session is never recorded
  const stats = await tracer.stop();
  assert.equal(stats.execs, 0);
  assert.deepEqual(events, []);
});

/** The events of the fixture's last session, from `airlock log show last --json`. */
function lastSessionEvents(fx: Fixture, env: NodeJS.ProcessEnv): { kind: string; action: string; subject: string; detail: Record<string, unknown> }[] {
  return JSON.parse(spawnSync(process.execPath, [AIRLOCK, 'log', 'show', 'last', '--json'], { env: { ...fx.env, ...env }, encoding: 'utf8' }).stdout);
}

test('airlock run on bwrap: an eBPF tracer that cannot start falls back to strace, and the log says so', { timeout: 120_000 }, async (t) => {
  const why = ebpfSkipReason() ?? backendSkipReason('bwrap');
  if (why) return t.skip(why);
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  // A bpftrace that passes the availability check (its version) but cannot load a program.
  const fakeBin = join(fx.root, 'fakebin');
  mkdirSync(fakeBin);
  writeFileSync(join(fakeBin, 'bpftrace'), '#!/bin/sh\n[ "$1" = --version ] && { echo "bpftrace v0.17.0"; exit 0; }\necho "ERROR: Error loading program" >&2\nexit 1\n', { mode: 0o755 });
  const policy = writePolicy(fx, 'airlock.yaml', 'version: 1\nruntime: { isolation: bwrap }\ncommands: { allow: [sh, "true"] }\n');
  const env = { PATH: `${fakeBin}:${process.env.PATH}`, AIRLOCK_BWRAP_TRACER: '' };
  const r = await runAirlock(fx, 'bwrap', policy, ['sh', '-c', '/bin/true fallback'], { env });
  assert.equal(r.code, 0, r.stderr);
  const events = lastSessionEvents(fx, env);
  const note = events.find((e) => e.kind === 'session' && e.action === 'monitor');
  assert.equal(note?.subject, 'strace');
  assert.match(String(note?.detail.reason), /eBPF tracer could not start .*Error loading program/);
  assert.ok(events.some((e) => e.action === 'exec' && e.subject === '/bin/true' && e.detail.source === 'strace'), 'process events from strace');

  // Forced, the same failure stops the session before anything runs (exit 125).
  const forced = await runAirlock(fx, 'bwrap', policy, ['sh', '-c', '/bin/true'], { env: { ...env, AIRLOCK_BWRAP_TRACER: 'ebpf' } });
  assert.equal(forced.code, 125, forced.stderr);
  assert.match(forced.stderr, /eBPF tracer: .*Error loading program/);
});

test('airlock run on bwrap: a pids limit above what the eBPF tracer can follow gets strace, and the log says so', { timeout: 120_000 }, async (t) => {
  const why = ebpfSkipReason() ?? backendSkipReason('bwrap');
  if (why) return t.skip(why);
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const policy = writePolicy(fx, 'airlock.yaml', `version: 1\nruntime: { isolation: bwrap, limits: { pids: ${MAP_KEYS} } }\ncommands: { allow: [sh, "true"] }\n`);
  const env = { AIRLOCK_BWRAP_TRACER: '' };
  const r = await runAirlock(fx, 'bwrap', policy, ['sh', '-c', '/bin/true many'], { env });
  assert.equal(r.code, 0, r.stderr);
  const events = lastSessionEvents(fx, env);
  const note = events.find((e) => e.kind === 'session' && e.action === 'monitor');
  assert.equal(note?.subject, 'strace');
  assert.match(String(note?.detail.reason), /runtime\.limits\.pids \(65536\) allows more tasks than the eBPF tracer can follow/);
  assert.ok(events.some((e) => e.action === 'exec' && e.subject === '/bin/true' && e.detail.source === 'strace'));
});
