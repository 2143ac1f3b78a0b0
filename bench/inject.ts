/**
 * bench/inject — what TLS termination + secret injection costs, against an opaque CONNECT tunnel,
 * through the same egress proxy (startProxy, inline, with the broker's interceptor), side by side
 * in the same run. Loopback only: an HTTPS echo server on 127.0.0.1 plays both hosts.
 *
 *   opaque    CONNECT plain.test → byte tunnel → upstream TLS (client ↔ server)
 *   inject    CONNECT api.test   → broker terminates TLS with a session-CA leaf → checkRequest
 *             (placeholder → Bearer value) → proxy re-encrypts to the server (keep-alive agent)
 *
 * Three measures: a fresh connection per request (CONNECT + handshake(s) + request), sequential
 * requests on one kept-alive tunnel (per-request added latency), and 8 concurrent kept-alive
 * tunnels (requests/s), plus the CPU time per request of the whole process (client + proxy +
 * server) — the figure that stays meaningful on a loaded machine. Client, proxy and server share
 * one Node process, so absolute numbers are pessimistic; the ratios are the point.
 *
 * Run: node dist/bench/inject.js [--quick]
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { startProxy } from '../src/network/index.js';
import { loadPolicyText } from '../src/policy/index.js';
import { startSecretBroker } from '../src/secrets/index.js';
import { startEchoServer, startMiniProxy } from '../src/secrets/testing.js';
import { createSessionCA } from '../src/secrets/x509.js';

const quick = process.argv.includes('--quick');
const N_FRESH = quick ? 40 : 100;
const N_SEQ = quick ? 300 : 1000;
const CONC = 8;
const N_CONC = quick ? 400 : 1600;

function tunnel(proxyPort: number, host: string, port: number, ca: string[]): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: `${host}:${port}`, headers: { Host: `${host}:${port}` }, agent: false });
    req.on('error', reject);
    req.on('connect', (res, socket: Socket) => {
      if (res.statusCode !== 200) return reject(new Error(`CONNECT ${res.statusCode}`));
      const s = tlsConnect({ socket, servername: host, ca }, () => resolve(s));
      s.on('error', reject);
    });
    req.end();
  });
}

/** A keep-alive client bound to one tunnel. */
function tunnelClient(sock: TLSSocket, host: string, port: number, headers: Record<string, string>) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection: () => Socket }).createConnection = () => sock;
  return () =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const req = request({ agent, host: '127.0.0.1', path: '/bench', headers: { Host: `${host}:${port}`, ...headers } }, (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-inject-'));
  const upstream = createSessionCA('bench upstream');
  writeFileSync(join(dir, 'up.pem'), upstream.certPem);
  const server = await startEchoServer(upstream, 'api.test');
  server.received.length = 0;
  const P = server.port;
  const policy = loadPolicyText(
    `version: 1
network:
  allow: ["api.test:${P}", "plain.test:${P}", { host: 127.0.0.0/8, ports: [${P}] }]
  upstreamCA: up.pem
secrets:
  TOKEN: { from: env:BENCH_T, inject: { host: "api.test:${P}", header: Authorization, format: "Bearer {}" } }
`,
    join(dir, 'airlock.yaml'),
  );
  const broker = await startSecretBroker({ policy, sessionId: 'bench-0001', audit: { emit() {} }, env: { BENCH_T: 'bench_secret_value_0123456789' } });
  const proxy = await startProxy({
    policy,
    socketPath: join(dir, 'p.sock'),
    audit: { emit() {} },
    interceptor: broker.interceptor,
    resolver: async (h) => (h === 'api.test' || h === 'plain.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
    tcpPort: 0,
  });
  const ref = await startMiniProxy({ interceptor: broker.interceptor, trust: broker.upstreamTrust, resolve: () => P });
  const modes: Record<string, { port: number; host: string; ca: string[]; headers: Record<string, string> }> = {
    opaque: { port: proxy.tcpPort!, host: 'plain.test', ca: [upstream.certPem], headers: {} },
    inject: { port: proxy.tcpPort!, host: 'api.test', ca: [broker.caCertPem], headers: { Authorization: `Bearer ${broker.env.TOKEN}` } },
    'inject/ref': { port: ref.port, host: 'api.test', ca: [broker.caCertPem], headers: { Authorization: `Bearer ${broker.env.TOKEN}` } },
  };
  const results: Record<string, Record<string, number>> = {};
  // warm-up (leaf issuance, upstream agent)
  for (const m of Object.values(modes)) {
    const s = await tunnel(m.port, m.host, P, m.ca);
    await tunnelClient(s, m.host, P, m.headers)();
    s.destroy();
  }
  for (const [name, m] of Object.entries(modes)) {
    // 1. fresh connection per request
    const fresh: number[] = [];
    for (let i = 0; i < N_FRESH; i++) {
      const t0 = performance.now();
      const s = await tunnel(m.port, m.host, P, m.ca);
      await tunnelClient(s, m.host, P, m.headers)();
      fresh.push(performance.now() - t0);
      s.destroy();
    }
    // 2. sequential on one tunnel
    const s = await tunnel(m.port, m.host, P, m.ca);
    const one = tunnelClient(s, m.host, P, m.headers);
    const seq: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < N_SEQ; i++) seq.push(await one());
    const cpu = process.cpuUsage(cpu0);
    s.destroy();
    // 3. concurrent tunnels
    const socks = await Promise.all(Array.from({ length: CONC }, () => tunnel(m.port, m.host, P, m.ca)));
    const clients = socks.map((x) => tunnelClient(x, m.host, P, m.headers));
    const t0 = performance.now();
    let left = N_CONC;
    await Promise.all(
      clients.map(async (c) => {
        while (left-- > 0) await c();
      }),
    );
    const rps = N_CONC / ((performance.now() - t0) / 1000);
    for (const x of socks) x.destroy();
    const f = stats(fresh);
    const q = stats(seq);
    results[name] = { freshP50: f.p50, freshP90: f.p90, seqP50: q.p50, seqP90: q.p90, seqP99: q.p99, seqRps: 1000 / q.mean, concRps: rps, cpuUs: (cpu.user + cpu.system) / N_SEQ };
  }
  const injected = server.received.filter((r) => r.headers.authorization === 'Bearer bench_secret_value_0123456789').length;
  await proxy.close();
  await ref.close();
  await broker.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });

  const o = results.opaque!;
  const i = results.inject!;
  const r = results['inject/ref']!;
  const row = (label: string, k: string, unit: string, digits = 2) => {
    const f = (x: number) => x.toFixed(digits).padStart(10);
    console.log(`${label.padEnd(40)} ${f(o[k]!)} ${f(i[k]!)} ${(i[k]! / o[k]!).toFixed(2).padStart(6)}x ${f(r[k]!)} ${(r[k]! / o[k]!).toFixed(2).padStart(6)}x  ${unit}`);
  };
  console.log(`bench/inject — loopback, Node ${process.version}${quick ? ' (quick)' : ''}`);
  console.log('opaque = CONNECT tunnel through startProxy; inject = TLS termination + injection through startProxy;');
  console.log('inject/ref = the same broker behind the reference proxy in src/secrets/testing.ts (upstream secure context built once)');
  console.log(`${'measure'.padEnd(40)} ${'opaque'.padStart(10)} ${'inject'.padStart(10)} ${'ratio'.padStart(7)} ${'inject/ref'.padStart(10)} ${'ratio'.padStart(7)}  unit`);
  row(`fresh connection + 1 request, p50 (n=${N_FRESH})`, 'freshP50', 'ms');
  row('fresh connection + 1 request, p90', 'freshP90', 'ms');
  row(`kept-alive tunnel, latency p50 (n=${N_SEQ})`, 'seqP50', 'ms', 3);
  row('kept-alive tunnel, latency p90', 'seqP90', 'ms', 3);
  row('kept-alive tunnel, latency p99', 'seqP99', 'ms', 3);
  row('kept-alive tunnel, sequential', 'seqRps', 'req/s', 0);
  row(`${CONC} concurrent tunnels (n=${N_CONC})`, 'concRps', 'req/s', 0);
  row('CPU per request (client+proxy+server)', 'cpuUs', 'µs', 0);
  console.log(`added latency per request on a kept-alive tunnel (p50): ${(i.seqP50! - o.seqP50!).toFixed(3)} ms via startProxy, ${(r.seqP50! - o.seqP50!).toFixed(3)} ms via the reference proxy; injected requests seen by the server: ${injected}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
