/**
 * bench/audit: the cost of runtime monitoring. Two workloads — exec-heavy (hundreds of short
 * processes) and file-heavy (600 files written, read back, removed) — each run on the same
 * backend with monitoring off and on, in interleaved pairs (the order inside a pair alternates),
 * and reported side by side. Target: on/off ≤ 1.10.
 *
 *   gvisor: `runsc run` of an OCI bundle; on = `--pod-init-config` + startGvisorMonitor
 *   bwrap:  bwrap; on = a process tracer, once per `--tracer` (default: ebpf where the host allows
 *           it, and strace): ebpf = bwrap started through ebpfTracer's path (bpftrace on kernel
 *           tracepoints), strace = the strace prefix from bwrapTracer
 *
 * Both sides open and close a real session log (signed, fsynced, indexed in SQLite), as
 * `airlock run` does whether or not a monitor runs; only the monitor differs. Per pair it records:
 *   - sandbox: wall time of the sandbox command alone (what the agent feels);
 *   - session: log open + monitor start + sandbox + monitor stop (drain) + log close and index
 *     (what the user waits for);
 *   - CPU: the sandbox's process tree (a cpuacct cgroup per run, or wait4 via /usr/bin/time) and airlock's own
 *     process (the receiver: decode, hash chain, log, index), plus bpftrace's CPU while tracing
 *     (its ~1 s start-up is a fixed per-session cost, reported in the session column only). CPU time does not depend on what
 *     else the shared machine runs, so it is the steadier figure; wall ratios are medians of the
 *     per-pair ratios.
 *
 * `--sink` picks what receives the trace stream when monitoring is on, to split the cost:
 *   log (default: the real log) · decode (decoded, events dropped) · drain (gVisor only: packets
 *   read and counted, not decoded — the Sentry's own trace-point cost plus the socket).
 *
 * Usage: node dist/bench/audit.js [--reps N] [--backend gvisor|bwrap]... [--workload exec|file]...
 *                                 [--tracer ebpf|strace]... [--sink log|decode|drain]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listenSeqpacket, type PolledConnection } from '../src/audit/seqpacket-listener.js';
import { bwrapTracer, ebpfTracer, ebpfUnavailableReason, openAuditLog, podInitConfig, startGvisorMonitor, closeIndex, type AuditSink } from '../src/audit/index.js';
import { createSessionDir, newSessionId } from '../src/session/store.js';

const { values } = parseArgs({
  options: { reps: { type: 'string' }, backend: { type: 'string', multiple: true }, workload: { type: 'string', multiple: true }, tracer: { type: 'string', multiple: true }, sink: { type: 'string' }, help: { type: 'boolean' } },
});
if (values.help) {
  console.log('usage: node dist/bench/audit.js [--reps N] [--backend gvisor|bwrap]... [--workload exec|file]... [--tracer ebpf|strace]... [--sink log|decode|drain]');
  process.exit(0);
}
const REPS = Number(values.reps ?? 10);
const SINK = values.sink ?? 'log';
if (!['log', 'decode', 'drain'].includes(SINK)) throw new Error(`--sink ${SINK}: expected log, decode or drain`);
const home = mkdtempSync(join(tmpdir(), 'airlock-bench-audit-'));
process.env.AIRLOCK_HOME = join(home, 'state');

const WORKLOADS: Record<string, { name: string; script: string }> = {
  exec: { name: 'exec-heavy (200 × /bin/true)', script: 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done' },
  file: { name: 'file-heavy (600 writes + reads)', script: 'i=0; while [ $i -lt 600 ]; do echo $i > /ws/f$i; i=$((i+1)); done; cat /ws/f* > /dev/null; rm -f /ws/f*' },
};

interface Run {
  /** wall ms of the sandbox command */
  sandbox: number;
  /** wall ms of the whole session window */
  session: number;
  /** user+sys ms of the sandbox's process tree */
  treeCpu: number;
  /** user+sys ms of this process over the session window */
  selfCpu: number;
  messages: number;
  events: number;
  dropped: number;
  /** CPU ms of a tracer process outside the sandbox tree (bpftrace), added to airlock's own. */
  extraCpu?: number;
  /** Awaited after the measurements, before the next run (bpftrace's exit). */
  settled?: Promise<void>;
}

const CPUACCT = '/sys/fs/cgroup/cpuacct';
const useCgroup = (() => {
  try {
    const probe = join(CPUACCT, `airlock-bench-probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
})();
let cg = 0;

/**
 * Runs a command: wall ms and the user+sys CPU ms of its whole process tree — from a cgroup v1
 * cpuacct group of its own when available (counts every descendant, reaped or not: bwrap's
 * sandboxed tree is not reaped by the launched process), else from /usr/bin/time (wait4 rusage).
 */
async function timed(file: string, args: string[], after?: () => void): Promise<{ ms: number; cpu: number }> {
  const group = join(CPUACCT, `airlock-bench-${process.pid}-${cg++}`);
  const out = join(home, `time-${process.pid}-${cg}`);
  let argv: string[];
  if (useCgroup) {
    mkdirSync(group);
    argv = ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', group, file, ...args];
  } else argv = ['/usr/bin/time', '-o', out, '-f', '%U %S', file, ...args];
  const t0 = performance.now();
  const { code, err } = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let e = '';
    p.stderr.on('data', (d: Buffer) => (e += d.toString()));
    p.on('exit', (c) => resolve({ code: c, err: e }));
  });
  const ms = performance.now() - t0;
  after?.();
  let cpu = NaN;
  if (useCgroup) {
    // the tree's last processes (runsc's sandbox and gofer) may outlive the launcher briefly
    for (let i = 0; i < 200 && readFileSync(join(group, 'cgroup.procs'), 'utf8').trim() !== ''; i++) await new Promise((r) => setTimeout(r, 10));
    cpu = Number(readFileSync(join(group, 'cpuacct.usage'), 'utf8')) / 1e6;
    rmdirSync(group);
  } else if (code === 0) {
    const [u, s] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    cpu = (u! + s!) * 1000;
    unlinkSync(out);
  }
  if (code !== 0 || !Number.isFinite(cpu)) throw new Error(`${file} exited ${code}: ${err.slice(0, 400)}`);
  return { ms, cpu };
}

/** A session log around `fn`, as airlock run keeps one whether or not a monitor runs. */
async function session(fn: (audit: AuditSink, runDir: string) => Promise<Omit<Run, 'session' | 'selfCpu'>>): Promise<Run> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const id = newSessionId();
  const dir = createSessionDir(id);
  const runDir = join(dir, 'run');
  mkdirSync(runDir, { mode: 0o700 });
  const log = await openAuditLog({ sessionId: id, sessionDir: dir, backend: 'bench' });
  const audit: AuditSink = SINK === 'log' ? log : { emit() {} };
  const r = await fn(audit, runDir);
  await log.close({ exitCode: 0 });
  log.forgetKey();
  const session = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (r.settled) {
    const keepAlive = setInterval(() => undefined, 1000); // the tracer process is unref'd
    await r.settled;
    clearInterval(keepAlive);
  }
  return { ...r, session, selfCpu: (c.user + c.system) / 1000 + (r.extraCpu ?? 0) };
}

function bundle(dir: string, script: string, ws: string): string {
  const b = join(dir, `bundle-${Math.random().toString(36).slice(2)}`);
  mkdirSync(b, { recursive: true });
  writeFileSync(
    join(b, 'config.json'),
    JSON.stringify({
      ociVersion: '1.0.0',
      process: { terminal: false, user: { uid: 0, gid: 0 }, args: ['/bin/sh', '-c', script], env: ['PATH=/usr/bin:/bin'], cwd: '/ws', noNewPrivileges: true, capabilities: {} },
      root: { path: '/', readonly: true },
      hostname: 'bench',
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/ws', type: 'bind', source: ws, options: ['rbind', 'rw'] },
      ],
      linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }] },
    }),
  );
  return b;
}

/** --sink drain: a receiver that answers the handshake and only counts packets (polled like the monitor). */
function drainReceiver(runDir: string): { podInitConfigPath: string; stop(): { messages: number; dropped: number } } {
  const sock = join(runDir, 'drain.sock');
  const podInitConfigPath = join(runDir, 'pod-init.json');
  writeFileSync(podInitConfigPath, JSON.stringify(podInitConfig(sock)));
  let messages = 0;
  let dropped = 0;
  let first = true;
  let conn: PolledConnection | undefined;
  let timer: NodeJS.Timeout | undefined;
  const count = (buf: Buffer) => {
    if (first) {
      first = false;
      conn!.write(Buffer.from([0x08, 0x01]));
      return;
    }
    messages++;
    if (buf.length >= 8) dropped = buf.readUInt32LE(4);
  };
  const poll = () => {
    if (conn!.drain(count, 256) !== 'eof') timer = setTimeout(poll, 20);
  };
  const listener = listenSeqpacket(sock, 4, (c) => ((conn = c), poll()), (e) => console.error(e));
  return {
    podInitConfigPath,
    stop() {
      if (timer) clearTimeout(timer);
      while (conn && conn.drain(count, 256) === 256);
      conn?.close();
      listener.close();
      return { messages, dropped };
    },
  };
}

let n = 0;
async function gvisor(script: string, monitored: boolean): Promise<Run> {
  const ws = mkdtempSync(join(home, 'ws-'));
  const root = join(home, 'runsc-root');
  const id = `airlock-bench-${process.pid}-${n++}`;
  const b = bundle(home, script, ws);
  const go = async (podInit?: string) => {
    return timed('runsc', ['--root', root, '--network=none', '--ignore-cgroups', ...(podInit ? [`--pod-init-config=${podInit}`] : []), 'run', '--bundle', b, id], () => spawnSync('runsc', ['--root', root, 'delete', '-force', id]));
  };
  try {
    return await session(async (audit, runDir) => {
      if (!monitored) {
        const t = await go();
        return { sandbox: t.ms, treeCpu: t.cpu, messages: 0, events: 0, dropped: 0 };
      }
      if (SINK === 'drain') {
        const d = drainReceiver(runDir);
        const t = await go(d.podInitConfigPath);
        const st = d.stop();
        return { sandbox: t.ms, treeCpu: t.cpu, messages: st.messages, events: 0, dropped: st.dropped };
      }
      const mon = await startGvisorMonitor({ runDir, audit });
      const t = await go(mon.podInitConfigPath);
      const st = await mon.stop();
      return { sandbox: t.ms, treeCpu: t.cpu, messages: st.messages, events: st.events, dropped: st.dropped };
    });
  } finally {
    rmSync(ws, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
}

async function bwrap(script: string, monitored: boolean, tracer: 'ebpf' | 'strace'): Promise<Run> {
  const ws = mkdtempSync(join(home, 'ws-'));
  const argv = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--bind', ws, '/ws', '--chdir', '/ws', '--unshare-all', '--die-with-parent', '--', '/bin/sh', '-c', script];
  try {
    return await session(async (audit, runDir) => {
      if (!monitored) {
        const t = await timed('bwrap', argv);
        return { sandbox: t.ms, treeCpu: t.cpu, messages: 0, events: 0, dropped: 0 };
      }
      if (tracer === 'ebpf') {
        const tr = await ebpfTracer({ runDir, audit });
        const t = await timed(tr.bwrapPath, argv);
        const st = await tr.stop();
        // airlock does not wait for bpftrace's exit (~1 s of probe detaching in the kernel); the
        // bench does, outside the timed window, so it does not overlap the next run
        return { sandbox: t.ms, treeCpu: t.cpu, messages: st.lines, events: st.execs + st.exits, dropped: 0, extraCpu: st.tracerCpuMs, settled: tr.exited };
      }
      const tr = await bwrapTracer({ runDir, audit });
      const t = await timed(tr.argvPrefix[0]!, [...tr.argvPrefix.slice(1), 'bwrap', ...argv]);
      const st = await tr.stop();
      return { sandbox: t.ms, treeCpu: t.cpu, messages: st.lines, events: st.execs + st.exits, dropped: 0 };
    });
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

/** The q-quantile (0..1) by linear interpolation between the sorted values. */
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
};
const median = (xs: number[]) => quantile(xs, 0.5);
const f0 = (x: number, w: number) => x.toFixed(0).padStart(w);
const f2 = (x: number, w: number) => x.toFixed(2).padStart(w);

async function main() {
  const tracers = (values.tracer ?? ['ebpf', 'strace']).map((t) => {
    if (t !== 'ebpf' && t !== 'strace') throw new Error(`--tracer ${t}: expected ebpf or strace`);
    return t;
  });
  // One row group per sandbox: gvisor, and bwrap once per usable tracer.
  const backends: { label: string; run: (script: string, monitored: boolean) => Promise<Run> }[] = [];
  for (const b of values.backend ?? ['gvisor', 'bwrap']) {
    if (process.getuid?.() !== 0) console.log(`skip ${b}: needs root`);
    else if (b === 'gvisor') {
      if (spawnSync('runsc', ['--version']).status === 0) backends.push({ label: 'gvisor', run: gvisor });
      else console.log('skip gvisor: runsc is not installed');
    } else if (spawnSync('bwrap', ['--version']).status !== 0) console.log('skip bwrap: not installed');
    else
      for (const t of tracers) {
        const why = t === 'ebpf' ? ebpfUnavailableReason() : spawnSync('strace', ['-V']).status === 0 ? undefined : 'strace is not installed';
        if (why) console.log(`skip bwrap+${t}: ${why}`);
        else backends.push({ label: `bwrap+${t}`, run: (script, monitored) => bwrap(script, monitored, t) });
      }
  }
  if (SINK === 'drain' && backends.some((b) => b.label.startsWith('bwrap'))) console.log('note: --sink drain applies to gvisor; bwrap runs with decode (no log)\n');
  const workloads = (values.workload ?? ['exec', 'file']).map((w) => {
    if (!WORKLOADS[w]) throw new Error(`--workload ${w}: expected exec or file`);
    return WORKLOADS[w]!;
  });
  console.log(`bench/audit — monitoring off vs on (sink: ${SINK}), same backend, ${REPS} interleaved pairs`);
  console.log('wall: medians in ms; ratio = median of the per-pair on/off ratios (sandbox alone, and the whole session');
  console.log('with log open/close + index); CPU: ms of user+sys, the sandbox process tree and airlock itself (receiver).');
  console.log('CPU ratio = (tree on + airlock on) / (tree off + airlock off): the extra work, independent of machine load.\n');
  const header = `${'backend'.padEnd(12)} ${'workload'.padEnd(31)} ${'off'.padStart(6)} ${'on'.padStart(6)} ${'ratio'.padStart(5)} │ ${'sess off'.padStart(8)} ${'on'.padStart(6)} ${'ratio'.padStart(5)} │ ${'tree off'.padStart(8)} ${'on'.padStart(5)} ${'airlock off'.padStart(11)} ${'on'.padStart(5)} ${'ratio'.padStart(5)} │ ${'msgs'.padStart(5)} ${'events'.padStart(6)} ${'drop'.padStart(4)}`;
  console.log(header);
  const summary: string[] = [];
  for (const { label: b, run: fn } of backends) {
    for (const w of workloads) {
      await fn(w.script, false); // warm-up (page cache, JIT)
      await fn(w.script, true);
      const off: Run[] = [];
      const on: Run[] = [];
      for (let i = 0; i < REPS; i++) {
        // alternate the order inside each pair so a drift in machine load does not favour one side
        if (i % 2 === 0) {
          off.push(await fn(w.script, false));
          on.push(await fn(w.script, true));
        } else {
          on.push(await fn(w.script, true));
          off.push(await fn(w.script, false));
        }
      }
      const m = (rs: Run[], k: Exclude<keyof Run, 'extraCpu' | 'settled'>) => median(rs.map((r) => r[k]));
      const pair = (k: 'sandbox' | 'session') => median(on.map((r, i) => r[k] / off[i]![k]));
      const cpuRatio = median(on.map((r, i) => (r.treeCpu + r.selfCpu) / (off[i]!.treeCpu + off[i]!.selfCpu)));
      const last = on[on.length - 1]!;
      const dropped = Math.max(...on.map((r) => r.dropped));
      console.log(
        `${b.padEnd(12)} ${w.name.padEnd(31)} ${f0(m(off, 'sandbox'), 6)} ${f0(m(on, 'sandbox'), 6)} ${f2(pair('sandbox'), 5)} │ ${f0(m(off, 'session'), 8)} ${f0(m(on, 'session'), 6)} ${f2(pair('session'), 5)} │ ${f0(m(off, 'treeCpu'), 8)} ${f0(m(on, 'treeCpu'), 5)} ${f0(m(off, 'selfCpu'), 11)} ${f0(m(on, 'selfCpu'), 5)} ${f2(cpuRatio, 5)} │ ${String(last.messages).padStart(5)} ${String(last.events).padStart(6)} ${String(dropped).padStart(4)}`,
      );
      // the machines here are shared and noisy: the middle half of the per-pair ratios says how far to trust the median
      const sandboxRatios = on.map((r, i) => r.sandbox / off[i]!.sandbox);
      const spread = `middle half of pairs ${quantile(sandboxRatios, 0.25).toFixed(2)}–${quantile(sandboxRatios, 0.75).toFixed(2)}`;
      summary.push(`${b} ${w.name}: sandbox ×${pair('sandbox').toFixed(2)} (${spread}), session ×${pair('session').toFixed(2)}, CPU ×${cpuRatio.toFixed(2)} ${pair('sandbox') <= 1.1 ? '(≤ 1.10 met)' : '(over 1.10)'}`);
    }
  }
  console.log(`\n${summary.join('\n')}`);
  closeIndex();
  rmSync(home, { recursive: true, force: true });
}

main().catch((err: Error) => {
  console.error(`bench/audit: ${err.message}`);
  rmSync(home, { recursive: true, force: true });
  process.exit(1);
});
