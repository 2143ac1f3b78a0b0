/** The eBPF tracer's line parser: hex strings, argv chunks, time order across CPUs, exit statuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARGV_CAP, bufferPages, bwrapTracerChoice, EbpfTraceParser, onlineCpus } from './ebpf-tracer.js';
import type { EventInput } from './types.js';

const hex = (s: string | Buffer) => [...Buffer.from(s)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
/** A fixed 200-byte filename read: the string, a NUL, then leftovers. */
const fn = (s: string) => hex(Buffer.concat([Buffer.from(s), Buffer.alloc(1), Buffer.from('leftover'.repeat(30))]).subarray(0, 200));
const now = () => Number(process.hrtime.bigint());

function parser(cpus = [0, 1]) {
  const events: EventInput[] = [];
  const p = new EbpfTraceParser({ emit: (e) => events.push(e) }, new Set(['curl']), cpus);
  return { p, events };
}

test('exec: argv from chunks split anywhere, exact bytes including newlines and UTF-8; the root (bwrap) is skipped', () => {
  const { p, events } = parser([0]);
  const t = now();
  p.line('S 100');
  p.line(`E 0 100 1 ${t} 10 ${fn('/run/x/exec/bwrap')}`);
  p.line(`A 100 ${hex('bwrap\0-a\0\0')}`);
  const argv = Buffer.from('/bin/sh\0-c\0echo "é"\nE 0 1 2 3 4 x\0');
  p.line(`E 0 101 100 ${t + 10} ${argv.length} ${fn('/bin/sh')}`);
  p.line(`A 101 ${hex(argv.subarray(0, 7))}`);
  p.line(`A 101 ${hex(argv.subarray(7))}`);
  p.line(`H 0 ${t + 20}`);
  p.flush();
  assert.equal(events.length, 1);
  assert.equal(events[0]!.subject, '/bin/sh');
  assert.deepEqual(events[0]!.detail, { pid: 101, ppid: 100, argv: ['/bin/sh', '-c', 'echo "é"\nE 0 1 2 3 4 x'], truncated: undefined, source: 'ebpf' });
});

test('a program path longer than the short read comes whole on its own line before the exec', () => {
  const { p, events } = parser([0]);
  const t = now();
  const long = `/opt/${'d'.repeat(80)}/tool`;
  p.line(`P 12 ${fn(long)}`);
  p.line(`E 0 12 1 ${t} 5 ${hex(long.slice(0, 48))}`); // the short read: 48 bytes, no NUL
  p.line(`A 12 ${hex('tool\0')}`);
  p.flush(true);
  assert.equal(events[0]!.subject, long);
  assert.equal(events[0]!.detail?.truncated, undefined);
});

test('an exit read before its exec (another CPU) is emitted after it: records wait for every CPU', () => {
  const { p, events } = parser([0, 1]);
  const t = now();
  p.line(`X 1 7 768 ${t + 50}`); // exit 3, read first
  p.line(`H 1 ${t + 60}`);
  p.flush();
  assert.equal(events.length, 0, 'CPU 0 has not shown a time past the exit yet');
  p.line(`E 0 7 1 ${t} 10 ${fn('/bin/true')}`);
  p.line(`A 7 ${hex('/bin/true\0')}`);
  p.flush();
  assert.deepEqual(events.map((e) => e.action), ['exec'], 'the exec can go; CPU 0 is still behind the exit');
  p.line(`H 0 ${t + 70}`);
  p.flush();
  assert.deepEqual(events.map((e) => `${e.action} ${e.subject} ${e.detail?.exitCode ?? ''}`), ['exec /bin/true ', 'exit /bin/true 3']);
});

test('a record held for an idle CPU goes out after 10 s; an exit that overtook its exec waits for it', () => {
  const { p, events } = parser([0, 1]);
  const t = now() - 11e9;
  p.line(`X 1 8 0 ${t + 5}`); // read first (CPU 1), after the hold: parked, no exec yet
  p.flush();
  assert.equal(events.length, 0);
  p.line(`E 0 8 1 ${t} 10 ${fn('/bin/true')}`);
  p.line(`A 8 ${hex('/bin/true\0')}`);
  p.flush();
  assert.deepEqual(events.map((e) => e.action), ['exec', 'exit'], 'CPU 1 never spoke again, the records are older than 10 s, and the exit follows its exec');
});

test('exit statuses: code, signal name, core dump bit', () => {
  const { p, events } = parser([0]);
  const t = now();
  for (const [pid, status] of [
    [1, 0],
    [2, 4 << 8],
    [3, 9],
    [4, 11 | 0x80],
  ] as const) {
    p.line(`E 0 ${pid} 0 ${t + pid} 0 ${fn('/bin/x')}`);
    p.line(`X 0 ${pid} ${status} ${t + 10 + pid}`);
  }
  p.flush(true);
  const exits = events.filter((e) => e.action === 'exit').map((e) => [e.detail?.exitCode, e.detail?.signal]);
  assert.deepEqual(exits, [
    [0, undefined],
    [4, undefined],
    [137, 'SIGKILL'],
    [139, 'SIGSEGV'],
  ]);
});

test('argv longer than the cap, a filename without NUL, and a record cut at stop are marked truncated', () => {
  const { p, events } = parser([0]);
  const t = now();
  p.line(`E 0 5 1 ${t} ${ARGV_CAP + 10} ${hex('/p'.repeat(100))}`);
  for (let i = 0; i < ARGV_CAP / 200; i++) p.line(`A 5 ${hex('y'.repeat(200))}`);
  p.line(`E 0 6 1 ${t + 1} 400 ${fn('/bin/cut')}`);
  p.line(`A 6 ${hex('z'.repeat(200))}`);
  p.flush(true);
  assert.equal(events.length, 2);
  assert.equal(events[0]!.detail?.truncated, true);
  assert.equal((events[0]!.detail?.argv as string[])[0]!.length, ARGV_CAP);
  assert.equal(events[0]!.subject.length, 200);
  assert.equal(events[1]!.detail?.truncated, true, 'only half of it arrived');
});

test('a refused exec and a commands.deny shim refusal', () => {
  const { p, events } = parser([0]);
  const t = now();
  p.line(`D 0 9 ${t} 13 ${fn('/ws/run.sh')}`);
  p.line(`a 9 ${fn('/ws/run.sh')}`);
  p.line(`a 9 ${fn('arg one')}`);
  p.line('Z 9');
  const argv = Buffer.from('curl\0http://x\0');
  p.line(`E 0 10 1 ${t + 5} ${argv.length} ${fn('/usr/bin/curl')}`);
  p.line(`A 10 ${hex(argv)}`);
  p.line(`X 0 10 ${126 << 8} ${t + 9}`);
  p.flush(true);
  assert.deepEqual(
    events.map((e) => `${e.kind} ${e.action} ${e.decision} ${e.subject}`),
    ['process exec deny /ws/run.sh', 'process exec allow /usr/bin/curl', 'policy deny deny /usr/bin/curl', 'process exit info /usr/bin/curl'],
  );
  assert.deepEqual(events[0]!.detail?.argv, ['/ws/run.sh', 'arg one']);
  assert.equal(events[0]!.detail?.errno, 'EACCES');
  assert.deepEqual(events[2]!.detail?.argv, ['curl', 'http://x']);
});

test('lost events are reported', () => {
  const { p } = parser([0]);
  let lost = '';
  p.onLost = (m) => (lost = m);
  p.line('Lost 12 events');
  assert.match(lost, /Lost 12 events/);
});

test('whenEveryCpuPasses waits for each CPU (heartbeat or fence)', async () => {
  const { p } = parser([0, 1]);
  const t = now();
  let done = false;
  const w = p.whenEveryCpuPasses(t).then(() => (done = true));
  p.line(`H 0 ${t + 1}`);
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  p.line(`F 1 ${t + 2}`);
  await w;
  assert.equal(done, true);
});

test('onlineCpus parses the kernel list', () => {
  assert.deepEqual(onlineCpus('0-3,5\n'), [0, 1, 2, 3, 5]);
  assert.deepEqual(onlineCpus('0'), [0]);
  assert.deepEqual(onlineCpus('x'), []);
});

test('AIRLOCK_BWRAP_TRACER picks the tracer; anything else is an error', () => {
  assert.equal(bwrapTracerChoice({ AIRLOCK_BWRAP_TRACER: 'strace' }), 'strace');
  assert.equal(bwrapTracerChoice({ AIRLOCK_BWRAP_TRACER: 'ebpf' }), 'ebpf');
  assert.throws(() => bwrapTracerChoice({ AIRLOCK_BWRAP_TRACER: 'ptrace' }), /AIRLOCK_BWRAP_TRACER=ptrace: expected ebpf or strace/);
  assert.ok(['ebpf', 'strace'].includes(bwrapTracerChoice({})));
});

test('buffer pages: 64 MiB in all, 1-16 MiB per CPU, a power of two', () => {
  assert.equal(bufferPages(1), 4096);
  assert.equal(bufferPages(2), 4096);
  assert.equal(bufferPages(8), 2048);
  assert.equal(bufferPages(6), 2048);
  assert.equal(bufferPages(256), 256);
});
