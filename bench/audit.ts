/**
 * bench/audit: the cost of runtime monitoring. Two workloads — exec-heavy (hundreds of short
 * processes) and file-heavy (a thousand files written, then read back) — each run on the same
 * backend with monitoring off and on (monitor + the real signed, fsynced audit log as the sink),
 * interleaved, and reported side by side as medians and the on/off ratio. Target: ≤ 1.10.
 *
 *   gvisor: `runsc run` of an OCI bundle; on = `--pod-init-config` + startGvisorMonitor
 *   bwrap:  bwrap; on = the strace prefix from bwrapTracer
 *
 * Usage: node dist/bench/audit.js [--reps N] [--backend gvisor|bwrap]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bwrapTracer, openAuditLog, startGvisorMonitor, closeIndex } from '../src/audit/index.js';
import { createSessionDir, newSessionId } from '../src/session/store.js';

const { values } = parseArgs({ options: { reps: { type: 'string' }, backend: { type: 'string', multiple: true } } });
const REPS = Number(values.reps ?? 5);
const home = mkdtempSync(join(tmpdir(), 'airlock-bench-audit-'));
process.env.AIRLOCK_HOME = join(home, 'state');

const WORKLOADS: Record<string, string> = {
  'exec-heavy (200 × /bin/true)': 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done',
  'file-heavy (600 writes + reads)': 'i=0; while [ $i -lt 600 ]; do echo $i > /ws/f$i; i=$((i+1)); done; cat /ws/f* > /dev/null; rm -f /ws/f*',
};

function run(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(0) : reject(new Error(`${file} exited ${code}: ${err.slice(0, 400)}`))));
  });
}

async function withLog<T>(fn: (log: Awaited<ReturnType<typeof openAuditLog>>, runDir: string) => Promise<T>): Promise<T> {
  const id = newSessionId();
  const dir = createSessionDir(id);
  const runDir = join(dir, 'run');
  mkdirSync(runDir, { mode: 0o700 });
  const log = await openAuditLog({ sessionId: id, sessionDir: dir, backend: 'bench', index: false });
  try {
    return await fn(log, runDir);
  } finally {
    await log.close({ exitCode: 0 });
    log.forgetKey();
  }
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

let n = 0;
async function gvisor(script: string, monitored: boolean): Promise<{ ms: number; events: number; dropped: number }> {
  const ws = mkdtempSync(join(home, 'ws-'));
  const root = join(home, 'runsc-root');
  const id = `airlock-bench-${process.pid}-${n++}`;
  const b = bundle(home, script, ws);
  const go = async (podInit?: string) => {
    const t0 = performance.now();
    await run('runsc', ['--root', root, '--network=none', '--ignore-cgroups', ...(podInit ? [`--pod-init-config=${podInit}`] : []), 'run', '--bundle', b, id]);
    const ms = performance.now() - t0;
    spawnSync('runsc', ['--root', root, 'delete', '-force', id]);
    return ms;
  };
  try {
    if (!monitored) return { ms: await go(), events: 0, dropped: 0 };
    return await withLog(async (log, runDir) => {
      const mon = await startGvisorMonitor({ runDir, audit: log });
      const ms = await go(mon.podInitConfigPath);
      const st = await mon.stop();
      return { ms, events: st.events, dropped: st.dropped };
    });
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

async function bwrap(script: string, monitored: boolean): Promise<{ ms: number; events: number; dropped: number }> {
  const ws = mkdtempSync(join(home, 'ws-'));
  const argv = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--bind', ws, '/ws', '--chdir', '/ws', '--unshare-all', '--die-with-parent', '--', '/bin/sh', '-c', script];
  try {
    if (!monitored) {
      const t0 = performance.now();
      await run('bwrap', argv);
      return { ms: performance.now() - t0, events: 0, dropped: 0 };
    }
    return await withLog(async (log, runDir) => {
      const tr = await bwrapTracer({ runDir, audit: log });
      const t0 = performance.now();
      await run(tr.argvPrefix[0]!, [...tr.argvPrefix.slice(1), 'bwrap', ...argv]);
      const ms = performance.now() - t0;
      const st = await tr.stop();
      return { ms, events: st.execs + st.exits, dropped: 0 };
    });
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const backends = (values.backend ?? ['gvisor', 'bwrap']).filter((b) => {
    const ok = b === 'gvisor' ? spawnSync('runsc', ['--version']).status === 0 : spawnSync('bwrap', ['--version']).status === 0 && spawnSync('strace', ['-V']).status === 0;
    if (!ok) console.log(`skip ${b}: not installed`);
    return ok && process.getuid?.() === 0;
  });
  console.log(`bench/audit — monitoring off vs on, same backend, interleaved, ${REPS} reps; median and best (min) wall time`);
  console.log('(on a shared, loaded machine the median swings ±30% run to run; the min ratio is the steadier figure)\n');
  console.log(`${'backend'.padEnd(8)} ${'workload'.padEnd(32)} ${'off med'.padStart(8)} ${'on med'.padStart(8)} ${'ratio'.padStart(6)} ${'off min'.padStart(8)} ${'on min'.padStart(8)} ${'ratio'.padStart(6)} ${'events'.padStart(7)} ${'dropped'.padStart(7)}  target ≤1.10`);
  for (const b of backends) {
    const fn = b === 'gvisor' ? gvisor : bwrap;
    for (const [name, script] of Object.entries(WORKLOADS)) {
      await fn(script, false); // warm-up
      const off: number[] = [];
      const on: number[] = [];
      let events = 0;
      let dropped = 0;
      for (let i = 0; i < REPS; i++) {
        off.push((await fn(script, false)).ms);
        const r = await fn(script, true);
        on.push(r.ms);
        events = r.events;
        dropped = Math.max(dropped, r.dropped);
      }
      const ratio = median(on) / median(off);
      const minRatio = Math.min(...on) / Math.min(...off);
      console.log(`${b.padEnd(8)} ${name.padEnd(32)} ${median(off).toFixed(0).padStart(8)} ${median(on).toFixed(0).padStart(8)} ${ratio.toFixed(2).padStart(6)} ${Math.min(...off).toFixed(0).padStart(8)} ${Math.min(...on).toFixed(0).padStart(8)} ${minRatio.toFixed(2).padStart(6)} ${String(events).padStart(7)} ${String(dropped).padStart(7)}  ${minRatio <= 1.1 ? 'ok' : 'OVER'}`);
    }
  }
  closeIndex();
  rmSync(home, { recursive: true, force: true });
}

main().catch((err: Error) => {
  console.error(`bench/audit: ${err.message}`);
  rmSync(home, { recursive: true, force: true });
  process.exit(1);
});
