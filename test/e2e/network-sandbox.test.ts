/**
 * The egress door through `bin/airlock run` on the real backends (runsc and bwrap): relay prelude,
 * mounted proxy socket, proxy variables. Allowed traffic reaches a loopback server on the host only
 * through the proxy; a program that ignores the proxy variables reaches nothing; without network
 * rules there is no proxy at all; if the proxy cannot start the agent never runs.
 * (Runs airlock as a child process: the sandbox shares airlock's stdio, not the test runner's.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEchoServer } from '../../src/network/testing.js';

const AIRLOCK = resolve(fileURLToPath(new URL('../../../bin/airlock', import.meta.url)));

function installed(backend: 'gvisor' | 'bwrap'): boolean {
  return spawnSync(backend === 'gvisor' ? 'runsc' : 'bwrap', ['--version']).status === 0;
}

function airlock(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn(AIRLOCK, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

// Everything the agent does; one `key=value` line per probe. Fixed script, data as $1, $2.
const AGENT = `port=$1; meta=$2
echo "allowed=$(curl -s -m 8 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/allowed")"
echo "tunnel=$(curl -s -m 8 -p -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/tunnel")"
echo "denied=$(curl -s -m 8 -o /dev/null -w '%{http_code}' http://example.com/)"
echo "denyhdr=$(curl -s -m 8 -D - -o /dev/null http://example.com/ | grep -ci '^x-airlock-deny:')"
echo "meta=$(curl -s -m 8 -o /dev/null -w '%{http_code}' "http://$meta/latest/meta-data/")"
echo "alt=$(curl -s -m 8 -o /dev/null -w '%{http_code}' "http://2130706433:1/")"
curl -s -m 3 --noproxy '*' "http://127.0.0.1:$port/direct" > /dev/null 2>&1; echo "direct=$?"
curl -s -m 3 --noproxy '*' "http://$meta/" > /dev/null 2>&1; echo "directmeta=$?"
curl -s -m 3 --noproxy '*' http://1.1.1.1/ > /dev/null 2>&1; echo "directpublic=$?"
env -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy curl -s -m 3 "http://127.0.0.1:$port/noenv" > /dev/null 2>&1; echo "noenv=$?"
`;

function parse(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function setup(allow: string[]): { root: string; policy: string; env: Record<string, string> } {
  const root = mkdtempSync(join(tmpdir(), 'airlock-e2e-net-'));
  mkdirSync(join(root, 'ws'));
  const policy = join(root, 'airlock.yaml');
  writeFileSync(policy, `version: 1\nfilesystem: { workspace: ./ws }\nnetwork:\n  allow: ${JSON.stringify(allow)}\n`);
  return { root, policy, env: { AIRLOCK_HOME: join(root, 'home') } };
}

for (const backend of ['gvisor', 'bwrap'] as const) {
  test(`${backend}: traffic leaves only through the proxy; a program ignoring proxy variables gets nothing`, { timeout: 90_000 }, async (t) => {
    if (!installed(backend)) return t.skip(`${backend} is not installed`);
    if (spawnSync('curl', ['--version']).status !== 0) return t.skip('curl is not installed');
    const echo = await startEchoServer();
    t.after(() => echo.close());
    const { root, policy, env } = setup([`127.0.0.1:${echo.port}`, 'metadata.test']);
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const r = await airlock(['run', '--policy', policy, '--backend', backend, '--network-log', '--', '/bin/sh', '-c', AGENT, 'agent', String(echo.port), '169.254.169.254'], env);
    assert.equal(r.code, 0, r.stderr);
    const got = parse(r.stdout);
    assert.equal(got.allowed, '200', r.stdout);
    assert.equal(got.tunnel, '200');
    assert.equal(got.denied, '403');
    assert.equal(got.denyhdr, '1');
    assert.equal(got.meta, '403');
    assert.equal(got.alt, '403');
    // Without the proxy: no route at all (curl 7 = could not connect, 28 = timeout). Never 0.
    for (const k of ['direct', 'directmeta', 'directpublic', 'noenv']) assert.ok(['7', '28'].includes(got[k]!), `${k}=${got[k]}`);
    assert.equal(echo.connections(), 2, 'the host server saw exactly the two proxied connections');
    // --network-log
    assert.match(r.stderr, new RegExp(`network:   127\\.0\\.0\\.1:${echo.port}  2 allowed`));
    assert.match(r.stderr, /network: {3}example\.com:80 {2}2 denied/);
    assert.match(r.stderr, /network: {3}169\.254\.169\.254:80 {2}1 denied/);
  });
}

test('no network rules: no proxy, no relay, no proxy variables, and nothing is reachable', { timeout: 60_000 }, async (t) => {
  const backend = installed('bwrap') ? 'bwrap' : installed('gvisor') ? 'gvisor' : undefined;
  if (!backend) return t.skip('no sandbox backend installed');
  const echo = await startEchoServer();
  t.after(() => echo.close());
  const { root, policy, env } = setup([]);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const script = `echo "proxyvar=\${HTTP_PROXY:-none}"; curl -s -m 3 "http://127.0.0.1:$1/" >/dev/null 2>&1; echo "rc=$?"; curl -s -m 3 -x http://127.0.0.1:3128 "http://127.0.0.1:$1/" >/dev/null 2>&1; echo "viarelay=$?"`;
  const r = await airlock(['run', '--policy', policy, '--backend', backend, '--network-log', '--', '/bin/sh', '-c', script, 'agent', String(echo.port)], env);
  assert.equal(r.code, 0, r.stderr);
  const got = parse(r.stdout);
  assert.equal(got.proxyvar, 'none');
  assert.ok(['7', '28'].includes(got.rc!));
  assert.ok(['7', '28'].includes(got.viarelay!));
  assert.equal(echo.connections(), 0);
  assert.match(r.stderr, /no network\.allow rules/);
});

test('fail closed: when the proxy cannot start, the agent is never started', { timeout: 60_000 }, async (t) => {
  const backend = installed('bwrap') ? 'bwrap' : installed('gvisor') ? 'gvisor' : undefined;
  if (!backend) return t.skip('no sandbox backend installed');
  const echo = await startEchoServer();
  t.after(() => echo.close());
  const { root, policy } = setup([`127.0.0.1:${echo.port}`]);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // A state directory so deep that the proxy's unix socket path exceeds the kernel's 107 bytes.
  const home = join(root, 'h'.repeat(60), 'i'.repeat(60));
  const r = await airlock(['run', '--policy', policy, '--backend', backend, '--', '/bin/sh', '-c', `echo started; curl -s "http://127.0.0.1:$1/"`, 'agent', String(echo.port)], { AIRLOCK_HOME: home });
  assert.equal(r.code, 125, r.stderr);
  assert.doesNotMatch(r.stdout, /started/);
  assert.match(r.stderr, /egress proxy could not start/);
  assert.equal(echo.connections(), 0);
});

test('the relay works when commands.allow does not list sh or socat (agent = curl only)', { timeout: 90_000 }, async (t) => {
  const backends = (['gvisor', 'bwrap'] as const).filter(installed);
  if (backends.length === 0) return t.skip('no sandbox backend installed');
  const echo = await startEchoServer();
  t.after(() => echo.close());
  const { root, policy, env } = setup([`127.0.0.1:${echo.port}`]);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(policy, `version: 1\nfilesystem: { workspace: ./ws }\ncommands: { allow: [curl] }\nnetwork:\n  allow: ["127.0.0.1:${echo.port}"]\n`);
  for (const b of backends) {
    const r = await airlock(['run', '--policy', policy, '--backend', b, '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${echo.port}/restricted`], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '200', `${b}: ${r.stderr}`);
  }
});
