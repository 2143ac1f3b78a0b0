/**
 * Startup cost: `airlock run -- /bin/true` against bare `runsc run` and bare `bwrap ... /bin/true`,
 * side by side in the same run, medians over BENCH_N runs (default 7), with ratios.
 *
 * Rows:
 *   bare bwrap / bare runsc          the backend alone (minimal sandbox, no airlock)
 *   launch() bwrap / launch() gvisor airlock's sandbox layer from an already running Node process:
 *                                    mount plan, seccomp, OCI bundle, supervision — what the
 *                                    backend adds (target ≤ 1.3× bare)
 *   airlock run --backend X          the whole CLI: Node start-up, policy, session, staged
 *                                    workspace (overlay mount), audit log + signature, teardown
 *   node -e 0                        Node's own start-up, for reference
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/startup.js
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend, type LaunchSpec } from '../src/sandbox/index.js';
import { sandboxEnv } from '../src/sandbox/env.js';

const N = Number(process.env.BENCH_N ?? 7);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const AIRLOCK = process.env.AIRLOCK_BIN ?? join(REPO, 'bin', 'airlock');
const root = mkdtempSync(join(tmpdir(), 'airlock-bench-startup-'));
const ws = join(root, 'ws');
mkdirSync(ws);
writeFileSync(join(ws, 'README'), 'bench\n');
const policy = join(root, 'policy.yaml');
writeFileSync(policy, 'version: 1\n');
const env = { PATH: process.env.PATH, HOME: join(root, 'home'), AIRLOCK_HOME: join(root, 'state') };
mkdirSync(env.HOME, { recursive: true });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(fn: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function check(r: ReturnType<typeof spawnSync>, what: string): void {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${String(r.stderr ?? '').slice(0, 400)}`);
}

// Bare runsc: a minimal bundle (host / read-only, /proc), as in GVISOR-NOTES.
const bundle = join(root, 'bundle');
mkdirSync(bundle);
writeFileSync(
  join(bundle, 'config.json'),
  JSON.stringify({
    ociVersion: '1.0.2',
    process: { args: ['/bin/true'], env: ['PATH=/usr/bin:/bin'], cwd: '/', user: { uid: 0, gid: 0 }, noNewPrivileges: true, capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] } },
    root: { path: '/', readonly: true },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['size=64m'] }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }] },
  }),
);
let seq = 0;
const bareRunsc = () => check(spawnSync('runsc', ['--root', join(root, 'runsc'), '--network=none', '--ignore-cgroups', 'run', '--bundle', bundle, `bench-${process.pid}-${seq++}`], { stdio: 'pipe' }), 'bare runsc');
const bareBwrap = () =>
  check(
    spawnSync('bwrap', ['--unshare-all', '--die-with-parent', '--new-session', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--dev', '/dev', '/bin/true'], { stdio: 'pipe' }),
    'bare bwrap',
  );
const cli = (backend: string) => () => check(spawnSync(AIRLOCK, ['run', '--policy', policy, '--backend', backend, '--workspace', ws, '--', '/bin/true'], { cwd: ws, env, stdio: 'pipe' }), `airlock run --backend ${backend}`);
const launch = (backend: 'gvisor' | 'bwrap') => async () => {
  const id = `bench${process.pid}x${seq++}`;
  const spec: LaunchSpec = {
    sessionId: id,
    runDir: join(root, 'runs', id),
    argv: ['/bin/true'],
    workspace: { hostPath: ws, sandboxPath: ws },
    cwd: ws,
    env: sandboxEnv({}, { pass: [], set: {} }, {}, id),
    mounts: [],
    deny: [],
    prelude: [],
    limits: {},
    tty: false,
  };
  const h = await getBackend(backend).launch(spec);
  const r = await h.wait();
  rmSync(spec.runDir, { recursive: true, force: true });
  if (r.exitCode !== 0) throw new Error(`launch ${backend}: exit ${r.exitCode}`);
};

const rows: [string, () => unknown][] = [
  ['node -e 0', () => check(spawnSync(process.execPath, ['-e', '0']), 'node')],
  ['bare bwrap /bin/true', bareBwrap],
  ['launch() bwrap', launch('bwrap')],
  ['airlock run --backend bwrap', cli('bwrap')],
  ['bare runsc run /bin/true', bareRunsc],
  ['launch() gvisor', launch('gvisor')],
  ['airlock run --backend gvisor', cli('gvisor')],
];

const results = new Map<string, number[]>();
try {
  for (const [, fn] of rows) await fn(); // warm-up (page cache, runsc binary)
  // Interleave the rows so that load changes on a shared machine hit all of them alike.
  for (let i = 0; i < N; i++) {
    for (const [name, fn] of rows) {
      const ms = await time(fn);
      results.set(name, [...(results.get(name) ?? []), ms]);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
const med = (n: string) => median(results.get(n)!);
const ratio = (a: string, b: string) => `${(med(a) / med(b)).toFixed(2)}×`;
console.log(`startup, median of ${N} (ms)`);
for (const [name] of rows) console.log(`  ${name.padEnd(32)} ${med(name).toFixed(1).padStart(8)}`);
console.log('ratios');
console.log(`  launch() bwrap / bare bwrap               ${ratio('launch() bwrap', 'bare bwrap /bin/true')}`);
console.log(`  launch() gvisor / bare runsc              ${ratio('launch() gvisor', 'bare runsc run /bin/true')}`);
console.log(`  airlock run bwrap / bare bwrap            ${ratio('airlock run --backend bwrap', 'bare bwrap /bin/true')}`);
console.log(`  airlock run gvisor / bare runsc           ${ratio('airlock run --backend gvisor', 'bare runsc run /bin/true')}`);
console.log(`  airlock run gvisor - node start-up, / bare runsc  ${((med('airlock run --backend gvisor') - med('node -e 0')) / med('bare runsc run /bin/true')).toFixed(2)}×`);
