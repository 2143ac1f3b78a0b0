import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileNetworkRule } from '../policy/compile.js';
import { RELAY_LAUNCHER, formatNetworkLog, sandboxNetworkPlan, startProxy } from './index.js';
import { startEchoServer } from './testing.js';

test('no allow rules: no plan (no proxy, no relay, no variables)', () => {
  assert.equal(sandboxNetworkPlan({ socketPath: '/x/net/p.sock', policy: { network: { allow: [], deny: [compileNetworkRule('a.example')] } } }), null);
});

test('the plan mounts the socket directory, sets every proxy variable and NO_PROXY empty', () => {
  const plan = sandboxNetworkPlan({ socketPath: '/tmp/s/net/proxy.sock', port: 4321, relay: 'socat' })!;
  assert.ok(plan);
  const sockMount = plan.mounts.find((m) => m.socket)!;
  assert.deepEqual(sockMount, { source: '/tmp/s/net', target: '/run/airlock/net', kind: 'bind', readonly: true, socket: true });
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) assert.equal(plan.env[k], 'http://127.0.0.1:4321', k);
  assert.equal(plan.env.NO_PROXY, '');
  assert.equal(plan.env.no_proxy, '');
  assert.equal(plan.prelude[0], '/run/airlock/bin/sh');
  assert.equal(plan.prelude[2], RELAY_LAUNCHER, 'the launcher is a fixed text: data only as positional arguments');
  assert.deepEqual(plan.prelude.slice(4, 7), ['4321', '10E1', '/run/airlock/net/proxy.sock']);
  assert.equal(plan.prelude.at(-1), '--');
});

function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
}

/** Runs `prelude + argv` on the host (the relays do not depend on the sandbox) with the plan's env. */
async function runWithRelay(relay: 'socat' | 'node', t: { skip(m: string): void }) {
  if (relay === 'socat' && spawnSync('socat', ['-V']).status !== 0) return t.skip('socat not installed');
  if (spawnSync('curl', ['--version']).status !== 0) return t.skip('curl not installed');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-relay-'));
  const echo = await startEchoServer();
  mkdirSync(join(dir, 'net'));
  const proxy = await startProxy({ policy: { network: { allow: [compileNetworkRule(`127.0.0.1:${echo.port}`)], deny: [] } }, socketPath: join(dir, 'net', 'p.sock'), audit: { emit() {} } });
  try {
    const port = await freePort();
    const plan = sandboxNetworkPlan({ socketPath: proxy.socketPath, port, relay, sandboxDir: dir })!;
    // On the host: use the host paths of the relay's programs instead of the sandbox bind targets.
    const hostPrelude = plan.prelude.map((a) => {
      const m = plan.mounts.find((x) => x.target === a);
      return m && !m.socket ? m.source : a;
    });
    // detached: its own process group, so the relay left running after the agent exits (in a
    // sandbox, teardown kills it) can be stopped here.
    const p = spawn(hostPrelude[0]!, [...hostPrelude.slice(1), 'curl', '-s', '-m', '5', `http://127.0.0.1:${echo.port}/via-${relay}`], { env: { PATH: process.env.PATH, ...plan.env }, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    await new Promise((r) => setTimeout(r, 50));
    try {
      process.kill(-p.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
    assert.equal(code, 0);
    assert.match(out, new RegExp(`"url":"/via-${relay}"`));
  } finally {
    await proxy.close();
    await echo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('socat relay: listening before the agent starts, forwards to the proxy socket', async (t) => runWithRelay('socat', t));
test('node relay: listening before the agent starts, forwards to the proxy socket, mirrors the exit code', async (t) => {
  await runWithRelay('node', t);
  const relayMain = fileURLToPath(new URL('./relay-main.js', import.meta.url));
  const r = spawnSync(process.execPath, [relayMain, String(await freePort()), '/nonexistent.sock', '--', 'sh', '-c', 'exit 7']);
  assert.equal(r.status, 7);
});

test('--network-log lists hosts contacted and denied with counts', () => {
  const lines = formatNetworkLog({
    hostsContacted: ['registry.npmjs.org:443'],
    hostsDenied: ['evil.example:443'],
    counts: { attempts: 4, allowed: 3, denied: 1, errors: 0, bytesUp: 10, bytesDown: 3 << 20 },
    hosts: {
      'registry.npmjs.org:443': { allowed: 3, denied: 0, errors: 0, bytesUp: 10, bytesDown: 3 << 20 },
      'evil.example:443': { allowed: 0, denied: 1, errors: 0, bytesUp: 0, bytesDown: 0 },
    },
  });
  assert.deepEqual(lines, [
    'network: 4 attempts, 3 allowed, 1 denied, 0 upstream errors',
    'network: hosts contacted: 1',
    'network:   registry.npmjs.org:443  3 allowed, 10 B up, 3.0 MiB down',
    'network: hosts denied: 1',
    'network:   evil.example:443  1 denied',
  ]);
});
