/**
 * bench/proxy — the egress proxy against a direct connection, side by side, same run, loopback only.
 *
 * 1. Bulk: read BULK_MIB from a loopback server through a CONNECT tunnel vs directly → throughput
 *    ratio (target ≥ 80%).
 * 2. Small keep-alive requests: sequential GETs over one kept-alive connection, through the proxy
 *    (plain HTTP, absolute-form) vs directly → added p50 / p99 latency (target ≤ 1 ms p50).
 *
 * The upstream servers run in a child process, the proxy in its worker thread (as in a session),
 * the client on the main thread. Runs alternate direct/proxy rounds; medians are reported.
 * 3. With `--relay`: start-up cost of the in-sandbox relay on each installed backend — `/bin/true`
 *    without a relay, behind the socat launcher, and behind the Node relay (medians of 5).
 * Usage: node dist/bench/proxy.js [--bulk-mib N] [--requests N] [--rounds N] [--relay] [--inline]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileNetworkRule } from '../src/policy/compile.js';
import { sandboxNetworkPlan, startProxy } from '../src/network/index.js';
import { backendInstalled, getBackend, type LaunchSpec } from '../src/sandbox/index.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const BULK_MIB = arg('bulk-mib', 512);
const REQUESTS = arg('requests', 3000);
const ROUNDS = arg('rounds', 3);

const UPSTREAM = `
const http = require('http'), net = require('net');
const chunk = Buffer.alloc(1 << 20, 120);
const bulk = net.createServer((s) => {
  s.once('data', (d) => {
    let left = Number(String(d).trim()) * 1;
    const pump = () => { while (left > 0) { left--; if (!s.write(chunk)) return s.once('drain', pump); } s.end(); };
    pump();
  });
  s.on('error', () => {});
});
const small = http.createServer((q, r) => { r.writeHead(200, { 'Content-Length': 2 }); r.end('ok'); });
small.keepAliveTimeout = 60000;
bulk.listen(0, '127.0.0.1', () => small.listen(0, '127.0.0.1', () => console.log(bulk.address().port + ' ' + small.address().port)));
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Reads `mib` MiB from the bulk server over `sock` (already connected / tunnelled); returns MiB/s. */
function readBulk(sock: net.Socket, mib: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const t0 = performance.now();
    sock.on('data', (d: Buffer) => (got += d.length));
    sock.on('end', () => {
      const s = (performance.now() - t0) / 1000;
      if (got !== mib * 2 ** 20) reject(new Error(`short read ${got}`));
      else resolve(mib / s);
      sock.destroy();
    });
    sock.on('error', reject);
    sock.write(`${mib}\n`);
  });
}

function direct(port: number): Promise<net.Socket> {
  return new Promise((r) => {
    const s = net.connect(port, '127.0.0.1', () => r(s));
    s.setNoDelay(true);
  });
}

function tunnel(proxyPort: number, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    s.setNoDelay(true);
    let buf = '';
    const on = (d: Buffer) => {
      buf += d.toString('latin1');
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      s.off('data', on);
      if (!buf.startsWith('HTTP/1.1 200')) return reject(new Error(buf));
      resolve(s);
    };
    s.on('data', on);
  });
}

async function smallRequests(n: number, via: { proxyPort?: number }, port: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const opts = via.proxyPort
        ? { host: '127.0.0.1', port: via.proxyPort, path: `http://127.0.0.1:${port}/x${i}`, headers: { Host: `127.0.0.1:${port}` }, agent }
        : { host: '127.0.0.1', port, path: `/x${i}`, agent };
      const req = http.get(opts, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
    });
    lat.push(performance.now() - t0);
  }
  agent.destroy();
  return lat.slice(Math.min(50, Math.floor(n / 10))); // drop warm-up
}

/** Wall time of `/bin/true` in the sandbox with each relay variant (the relay must be listening first). */
async function relayStartup(proxySocket: string, dir: string): Promise<void> {
  process.env.AIRLOCK_HOME = join(dir, 'home');
  console.log('');
  console.log('relay start-up (median of 5, /bin/true as the agent)');
  for (const b of ['gvisor', 'bwrap'] as const) {
    if (!backendInstalled(b)) {
      console.log(`  ${b}: not installed`);
      continue;
    }
    const row: string[] = [];
    for (const variant of ['none', 'socat', 'node'] as const) {
      const times: number[] = [];
      let failed = '';
      for (let i = 0; i < 5 && !failed; i++) {
        const plan = variant === 'none' ? undefined : sandboxNetworkPlan({ socketPath: proxySocket, port: 3128, relay: variant })!;
        const ws = mkdtempSync(join(dir, 'ws-'));
        const spec: LaunchSpec = {
          sessionId: `benchrelay${process.pid}${b}${variant}${i}`,
          runDir: join(dir, `run-${b}-${variant}-${i}`),
          argv: ['/bin/true'],
          workspace: { hostPath: ws, sandboxPath: ws },
          cwd: ws,
          env: { PATH: '/usr/bin:/bin', ...(plan?.env ?? {}) },
          mounts: plan?.mounts ?? [],
          deny: [],
          prelude: plan?.prelude ?? [],
          limits: {},
          tty: false,
        };
        const t0 = performance.now();
        const h = await getBackend(b).launch(spec);
        const r = await h.wait();
        times.push(performance.now() - t0);
        if (r.exitCode !== 0) failed = `failed (exit ${r.exitCode})`;
      }
      row.push(`${variant} ${failed || `${median(times).toFixed(0)} ms`}`);
    }
    console.log(`  ${b.padEnd(7)} ${row.join('   ')}`);
  }
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['-e', UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [bulkPort, smallPort] = await new Promise<number[]>((r) => child.stdout.once('data', (d) => r(String(d).trim().split(' ').map(Number))));
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-proxy-'));
  let events = 0;
  const proxy = await startProxy({
    policy: { network: { allow: [compileNetworkRule(`127.0.0.1:${bulkPort}`), compileNetworkRule(`127.0.0.1:${smallPort}`)], deny: [] } },
    socketPath: join(dir, 'p.sock'),
    audit: { emit: () => events++ },
    tcpPort: 0,
    thread: process.argv.includes('--inline') ? 'inline' : 'worker',
  });
  try {
    console.log(`bench/proxy: bulk ${BULK_MIB} MiB × ${ROUNDS} rounds, ${REQUESTS} keep-alive requests × ${ROUNDS} rounds (proxy thread: ${proxy.thread})`);
    const bd: number[] = [];
    const bp: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      bd.push(await readBulk(await direct(bulkPort), BULK_MIB));
      bp.push(await readBulk(await tunnel(proxy.tcpPort!, bulkPort), BULK_MIB));
    }
    const ld: number[] = [];
    const lp: number[] = [];
    const p50d: number[] = [];
    const p50p: number[] = [];
    const p99d: number[] = [];
    const p99p: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const d = await smallRequests(REQUESTS, {}, smallPort);
      const p = await smallRequests(REQUESTS, { proxyPort: proxy.tcpPort }, smallPort);
      ld.push(...d);
      lp.push(...p);
      p50d.push(pct(d, 50));
      p50p.push(pct(p, 50));
      p99d.push(pct(d, 99));
      p99p.push(pct(p, 99));
    }
    const thrD = median(bd);
    const thrP = median(bp);
    const ratio = thrP / thrD;
    const addP50 = median(p50p) - median(p50d);
    const addP99 = median(p99p) - median(p99d);
    const f = (x: number) => x.toFixed(3);
    console.log('');
    console.log('                      direct        via proxy     ratio / added');
    console.log(`bulk CONNECT MiB/s    ${thrD.toFixed(0).padStart(8)}      ${thrP.toFixed(0).padStart(8)}      ${(ratio * 100).toFixed(1)}%   (target ≥ 80%)  ${ratio >= 0.8 ? 'OK' : 'MISS'}`);
    console.log(`small GET p50 ms      ${f(median(p50d)).padStart(8)}      ${f(median(p50p)).padStart(8)}      +${f(addP50)} ms (target ≤ 1 ms)  ${addP50 <= 1 ? 'OK' : 'MISS'}`);
    console.log(`small GET p99 ms      ${f(median(p99d)).padStart(8)}      ${f(median(p99p)).padStart(8)}      +${f(addP99)} ms`);
    console.log(`requests/s            ${(1000 / (ld.reduce((a, b) => a + b, 0) / ld.length)).toFixed(0).padStart(8)}      ${(1000 / (lp.reduce((a, b) => a + b, 0) / lp.length)).toFixed(0).padStart(8)}`);
    console.log(`rounds: bulk direct ${bd.map((x) => x.toFixed(0)).join('/')} proxy ${bp.map((x) => x.toFixed(0)).join('/')} MiB/s; audit events ${events}`);
    if (process.argv.includes('--relay')) await relayStartup(proxy.socketPath, dir);
  } finally {
    await proxy.close();
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
