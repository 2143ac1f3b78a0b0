/**
 * Attacks on the eBPF process tracer of the bwrap backend, from inside the sandbox: forging trace
 * lines, running programs the tracer would not see (daemonised, double-forked, exec from a
 * thread), flooding it, and killing it mid-session. Each must fail: the events stay true and
 * complete, or the session stops and says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventInput } from '../../src/audit/types.js';
import { ebpfTracer } from '../../src/audit/ebpf-tracer.js';
import { ebpfSkipReason, traced } from '../ebpf-support.js';
import { has } from '../support.js';
import { AIRLOCK, makeFixture } from './harness.js';

const execs = (events: EventInput[]) => events.filter((e) => e.kind === 'process' && e.action === 'exec' && e.decision === 'allow');

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-ebpf-attack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a program path and arguments shaped like trace lines are recorded verbatim and forge nothing', { timeout: 60_000 }, async (t) => {
  const why = ebpfSkipReason();
  if (why) return t.skip(why);
  const dir = tempDir(t);
  // What a forger would print: an exec of /bin by pid 1, an exit, a new root.
  const forged = 'E 0 1 1 1 4 \\x2f\\x62\\x69\\x6e\nA 1 \\x2f\\x62\\x69\\x6e\\x00\nX 0 1 0 1\nS 1';
  const evilDir = join(dir, `x\n${forged}\n`);
  mkdirSync(evilDir);
  const evil = join(evilDir, 'prog');
  writeFileSync(evil, '#!/bin/sh\nexit 0\n');
  chmodSync(evil, 0o755);
  const { events, failed } = await traced(dir, '"$1" "$2" "$3"; /bin/true after', [evil, `arg\n${forged}`, '\\x41\\x00']);
  assert.equal(failed, undefined);
  const prog = execs(events).find((e) => e.subject === evil);
  assert.ok(prog, 'the program is recorded under its real path, newlines included');
  // a #! script: argv as the kernel runs it, the interpreter first
  assert.deepEqual(prog.detail?.argv, ['/bin/sh', evil, `arg\n${forged}`, '\\x41\\x00']);
  assert.ok(!events.some((e) => e.subject === '/bin' || e.detail?.pid === 1), 'no forged record');
  assert.ok(execs(events).some((e) => e.subject === '/bin/true'), 'the trace goes on after the forgery attempt');
});

test('daemonised, double-forked and reparented programs are still recorded', { timeout: 60_000 }, async (t) => {
  const why = ebpfSkipReason() ?? (has('setsid') ? undefined : 'setsid is not installed');
  if (why) return t.skip(why);
  const dir = tempDir(t);
  const script = [
    "setsid -f /bin/sh -c '/bin/true escaped-setsid'",
    '( ( /bin/true escaped-double-fork & ) & )',
    "nohup /bin/sh -c '/bin/true escaped-nohup' >/dev/null 2>&1 &",
    "/bin/sh -c '/bin/sh -c \"/bin/true escaped-grandchild\" & exit 0'",
    'sleep 0.5',
  ].join('\n');
  const { events, failed } = await traced(dir, script);
  assert.equal(failed, undefined);
  const seen = execs(events).flatMap((e) => (e.subject === '/bin/true' ? [(e.detail?.argv as string[])[1]] : []));
  for (const tag of ['escaped-setsid', 'escaped-double-fork', 'escaped-nohup', 'escaped-grandchild']) assert.ok(seen.includes(tag), `${tag} recorded (seen: ${seen.join(', ')})`);
});

test('an exec from a non-leader thread is recorded under the process id', { timeout: 60_000 }, async (t) => {
  const why = ebpfSkipReason() ?? (has('python3') ? undefined : 'python3 is not installed');
  if (why) return t.skip(why);
  const dir = tempDir(t);
  const py = "import os, threading\nt = threading.Thread(target=lambda: os.execv('/bin/true', ['/bin/true', 'from-thread']))\nt.start(); t.join()";
  const { events, failed } = await traced(dir, 'exec python3 -c "$1"', [py]);
  assert.equal(failed, undefined);
  const python = execs(events).find((e) => /python3/.test(e.subject));
  const tru = execs(events).find((e) => e.subject === '/bin/true');
  assert.ok(python && tru, 'both execs recorded');
  assert.deepEqual(tru.detail?.argv, ['/bin/true', 'from-thread']);
  assert.equal(tru.detail?.pid, python.detail?.pid, 'the thread takes over the process id');
});

test('a flood of 1,500 concurrent execs is recorded in full, or the tracer reports the loss', { timeout: 120_000 }, async (t) => {
  const why = ebpfSkipReason();
  if (why) return t.skip(why);
  const dir = tempDir(t);
  const N = 1500;
  const script = `i=0; while [ $i -lt ${N} ]; do /bin/true flood-$i "$1" & i=$((i+1)); done; wait`;
  const { events, failed } = await traced(dir, script, ['p'.repeat(3000)]);
  const got = new Set(execs(events).flatMap((e) => (e.subject === '/bin/true' ? [(e.detail?.argv as string[])[1]] : [])));
  if (failed) {
    assert.match(failed.message, /[Ll]ost \d+ events|did not catch up/, 'a loss is reported, never silent');
    t.diagnostic(`the tracer reported: ${failed.message} (${got.size}/${N} recorded)`);
    return;
  }
  const missing = Array.from({ length: N }, (_, i) => `flood-${i}`).filter((k) => !got.has(k));
  assert.deepEqual(missing, [], 'no exec is missing without a reported loss');
  assert.equal(events.filter((e) => e.action === 'exit' && e.subject === '/bin/true').length, N, 'every exit too');
});

test('killing the tracer mid-session stops the session and says why (fail closed)', { timeout: 120_000 }, async (t) => {
  const why = ebpfSkipReason() ?? (process.getuid?.() === 0 ? undefined : 'needs root');
  if (why) return t.skip(why);
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  writeFileSync(join(fx.ws, 'airlock.yaml'), 'version: 1\nruntime: { isolation: bwrap }\ncommands: { allow: [sh, sleep] }\n');
  const p = spawn(process.execPath, [AIRLOCK, 'run', '--policy', join(fx.ws, 'airlock.yaml'), '--', 'sh', '-c', 'sleep 60'], { cwd: fx.ws, env: { ...fx.env, AIRLOCK_BWRAP_TRACER: 'ebpf' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
  // Wait for the agent's sleep under bwrap, then kill airlock's bpftrace.
  let tracerPid: number | undefined;
  for (let i = 0; i < 200 && !tracerPid; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const kids = spawnSync('pgrep', ['-P', String(p.pid), '-x', 'bpftrace'], { encoding: 'utf8' }).stdout.trim();
    const agent = spawnSync('pgrep', ['-f', '^sleep 60$'], { encoding: 'utf8' }).stdout.trim();
    if (kids && agent) tracerPid = Number(kids.split('\n')[0]);
  }
  assert.ok(tracerPid, `airlock's bpftrace found (stderr so far: ${err})`);
  const t0 = Date.now();
  process.kill(tracerPid, 'SIGKILL');
  const code = await exited;
  assert.notEqual(code, 0);
  assert.ok(Date.now() - t0 < 30_000, 'the session stopped promptly, not when the agent finished');
  assert.match(err, /process tracer failed/);
});

test("a second exec of the session's bwrap path (from outside its tree) does not join the trace", { timeout: 60_000 }, async (t) => {
  const why = ebpfSkipReason();
  if (why) return t.skip(why);
  const dir = tempDir(t);
  const events: EventInput[] = [];
  const tracer = await ebpfTracer({ runDir: dir, audit: { emit: (e) => events.push(e) } });
  const bw = (cmd: string) => spawn(tracer.bwrapPath, ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-all', '--die-with-parent', '--', '/bin/sh', '-c', cmd], { stdio: 'ignore' });
  const session = bw('/bin/true session; sleep 0.5; /bin/true session-end');
  await new Promise((r) => setTimeout(r, 200));
  // Another process (say, another session's agent that could see the path) execs it too.
  const intruder = bw('/bin/true intruder');
  await Promise.all([session, intruder].map((p) => new Promise((r) => p.on('exit', r))));
  await tracer.stop();
  const tags = execs(events).flatMap((e) => (e.subject === '/bin/true' ? [(e.detail?.argv as string[])[1]] : []));
  assert.deepEqual(tags, ['session', 'session-end'], 'only the first process that exec\'d the path is traced');
});
