import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import tls from 'node:tls';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { compileNetworkRule } from '../policy/compile.js';
import type { EventInput } from '../audit/types.js';
import type { Interceptor } from './interceptor.js';
import { startProxy, type ProxyHandle } from './index.js';
import { connectTunnel, rawRequest, startEchoServer, startRawServer, tableResolver, type EchoServer } from './testing.js';

type Rule = Parameters<typeof compileNetworkRule>[0];
const policy = (allow: Rule[], deny: Rule[] = []) => ({ network: { allow: allow.map(compileNetworkRule), deny: deny.map(compileNetworkRule) } });

const dir = mkdtempSync(join(tmpdir(), 'airlock-net-'));
let n = 0;
const sock = () => join(dir, `p${n++}.sock`);
after(() => rmSync(dir, { recursive: true, force: true }));

let echo: EchoServer;
before(async () => {
  echo = await startEchoServer();
});
after(() => echo.close());

async function proxyWith(allow: Rule[], deny: Rule[] = [], extra: Partial<Parameters<typeof startProxy>[0]> = {}) {
  const events: EventInput[] = [];
  const p = await startProxy({
    policy: policy(allow, deny),
    socketPath: sock(),
    audit: { emit: (e) => events.push(e) },
    tcpPort: 0,
    resolver: tableResolver({ 'internal.test': ['127.0.0.1'], 'meta.test': ['169.254.169.254'], 'mixed.test': ['93.184.216.34', '127.0.0.1'], 'v6.test': ['::1'], 'echo.test': ['127.0.0.1'] }),
    ...extra,
  });
  return { p, events, port: p.tcpPort! };
}

const get = (port: number, url: string, headers = '') => rawRequest(port, `GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nConnection: close\r\n${headers}\r\n`);

test('allowed plain HTTP reaches the upstream and is recorded with every detail field', async () => {
  const { p, events, port } = await proxyWith([`127.0.0.1:${echo.port}`]);
  try {
    const r = await rawRequest(port, `POST http://127.0.0.1:${echo.port}/a/b?c=1 HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\nContent-Length: 5\r\nProxy-Authorization: x\r\nConnection: close\r\n\r\nhello`);
    assert.equal(r.status, 200);
    const echoed = JSON.parse(r.body) as { method: string; url: string; headers: string[]; body: string };
    assert.equal(echoed.url, '/a/b?c=1');
    assert.equal(echoed.body, 'hello');
    assert.ok(!echoed.headers.map((h) => h.toLowerCase()).includes('proxy-authorization'), 'hop-by-hop proxy headers are not forwarded');
    await new Promise((res) => setTimeout(res, 50));
    const e = events.find((x) => x.kind === 'network' && x.decision === 'allow')!;
    assert.equal(e.action, 'request');
    assert.equal(e.subject, `127.0.0.1:${echo.port}`);
    for (const k of ['host', 'port', 'method', 'path', 'decision', 'reason', 'bytesUp', 'bytesDown', 'durationMs', 'address']) assert.ok(k in e.detail!, k);
    assert.equal(e.detail!.bytesUp, 5);
    assert.ok((e.detail!.bytesDown as number) > 10);
    assert.equal(e.detail!.address, '127.0.0.1');
    assert.deepEqual(p.stats().hostsContacted, [`127.0.0.1:${echo.port}`]);
  } finally {
    await p.close();
  }
});

test('denied requests get 403, a short body, X-Airlock-Deny and a deny event', async () => {
  const { p, events, port } = await proxyWith([`127.0.0.1:${echo.port}`]);
  try {
    const r = await get(port, 'http://example.com/');
    assert.equal(r.status, 403);
    assert.match(r.headers['x-airlock-deny']!, /example\.com:80 matches no network\.allow rule/);
    assert.ok(r.body.length < 400);
    const c = await connectTunnel(port, 'example.com:443');
    assert.equal(c.ok, false);
    assert.equal(!c.ok && c.res.status, 403);
    assert.equal(events.filter((e) => e.decision === 'deny').length, 2);
    assert.deepEqual(p.stats().hostsDenied, ['example.com:443', 'example.com:80']);
    assert.equal(echo.connections() >= 0, true);
  } finally {
    await p.close();
  }
});

test('address guard: allowed names that resolve to private/metadata addresses are refused', async () => {
  const { p, port } = await proxyWith([`internal.test:${echo.port}`, 'meta.test', 'mixed.test', `v6.test:${echo.port}`]);
  try {
    for (const url of [`http://internal.test:${echo.port}/`, 'http://meta.test/latest/meta-data/', 'http://mixed.test/', `http://v6.test:${echo.port}/`]) {
      const r = await get(port, url);
      assert.equal(r.status, 403, url);
      assert.match(r.headers['x-airlock-deny']!, /blocked address/, url);
    }
    const c = await connectTunnel(port, `internal.test:${echo.port}`);
    assert.equal(!c.ok && c.res.status, 403);
  } finally {
    await p.close();
  }
});

test('address guard: naming the literal address opens it, also for a name resolving to it', async () => {
  const { p, port } = await proxyWith([`internal.test:${echo.port}`, `127.0.0.1:${echo.port}`]);
  try {
    assert.equal((await get(port, `http://internal.test:${echo.port}/`)).status, 200);
    assert.equal((await get(port, `http://127.0.0.1:${echo.port}/`)).status, 200);
    // the literal rule is for one port only
    assert.equal((await get(port, `http://127.0.0.1:${echo.port === 65535 ? 1 : echo.port + 1}/`)).status, 403);
  } finally {
    await p.close();
  }
});

test('alternate IPv4 forms are the address they spell, for allow and for deny', async () => {
  const { p, port } = await proxyWith([`127.0.0.1:${echo.port}`]);
  try {
    for (const h of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '0x7f.0.0.1', '127.0.0.1.']) {
      const r = await rawRequest(port, `GET http://${h}:${echo.port}/ HTTP/1.1\r\nHost: ${h}:${echo.port}\r\nConnection: close\r\n\r\n`);
      assert.equal(r.status, 200, h);
    }
  } finally {
    await p.close();
  }
  const d = await proxyWith(['localhost']);
  try {
    for (const h of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', '[::1]', '[::ffff:127.0.0.1]']) {
      const r = await rawRequest(d.port, `GET http://${h}/ HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`);
      assert.equal(r.status, 403, h);
      const c = await connectTunnel(d.port, `${h}:443`);
      assert.equal(!c.ok && c.res.status, 403, h);
    }
  } finally {
    await d.p.close();
  }
});

test('deny rules win over allow rules', async () => {
  const { p, port } = await proxyWith([`127.0.0.0/8`], [`127.0.0.1:${echo.port}`]);
  try {
    const r = await get(port, `http://127.0.0.1:${echo.port}/`);
    assert.equal(r.status, 403);
    assert.match(r.headers['x-airlock-deny']!, /network\.deny/);
  } finally {
    await p.close();
  }
});

test('conflicting targets are refused', async () => {
  const { p, port } = await proxyWith([`127.0.0.1:${echo.port}`, `echo.test:${echo.port}`]);
  try {
    const cases = [
      `GET http://127.0.0.1:${echo.port}/ HTTP/1.1\r\nHost: evil.example\r\n\r\n`,
      `GET http://127.0.0.1:${echo.port}/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n`,
      `GET http://127.0.0.1:${echo.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\nHost: evil.example\r\n\r\n`,
      `GET http://evil.example@127.0.0.1:${echo.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\n`,
      `GET /relative HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\n`,
      `GET https://127.0.0.1:${echo.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\n`,
      `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: evil.example:443\r\n\r\n`,
      `CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n`,
      `CONNECT http://127.0.0.1:${echo.port}/ HTTP/1.1\r\n\r\n`,
    ];
    for (const c of cases) {
      const r = await rawRequest(port, c);
      assert.equal(r.status, 400, c);
      assert.ok(r.headers['x-airlock-deny'], c);
    }
  } finally {
    await p.close();
  }
});

test('smuggling shapes, malformed and oversized requests get 400 and the proxy keeps serving', async () => {
  const { p, port, events } = await proxyWith([`127.0.0.1:${echo.port}`]);
  const u = `http://127.0.0.1:${echo.port}/`;
  const h = `Host: 127.0.0.1:${echo.port}\r\n`;
  try {
    const cases = [
      `POST ${u} HTTP/1.1\r\n${h}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc`,
      `POST ${u} HTTP/1.1\r\n${h}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`,
      `POST ${u} HTTP/1.1\r\n${h}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST ${u} HTTP/1.1\r\n${h}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
      `POST ${u} HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      `GET ${u} HTTP/1.1\r\n${h}X-A: a\r\n folded\r\n\r\n`,
      `GET ${u} HTTP/1.1\r\n${h}X-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
      `GET ${u} HTTP/1.1\n${h}\n`,
      `GET ${u} HTTP/9.9\r\n${h}\r\n`,
      `G\x00T ${u} HTTP/1.1\r\n${h}\r\n`,
      `GET ${u} HTTP/1.1\r\n${h}Content-Length: -1\r\n\r\n`,
      `GET ${u} HTTP/1.1\r\n${h}Bad Header: x\r\n\r\n`,
    ];
    for (const c of cases) {
      const r = await rawRequest(port, c);
      assert.equal(r.status, 400, JSON.stringify(c.slice(0, 120)));
    }
    // a bad chunk after the head: the upstream request is aborted, nothing crashes
    const bad = await rawRequest(port, `POST ${u} HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`);
    assert.notEqual(bad.status, 200);
    assert.equal((await get(port, u)).status, 200);
    assert.ok(events.some((e) => e.decision === 'deny' && /malformed/.test(String(e.detail?.reason))));
  } finally {
    await p.close();
  }
});

test('fuzzed malformed requests never crash the proxy or reach a denied host, and it serves afterwards', async () => {
  const { p, port } = await proxyWith([`127.0.0.1:${echo.port}`]);
  const other = await startRawServer();
  try {
    const piece = fc.constantFrom(
      'GET ', 'POST ', 'CONNECT ', 'http://', `127.0.0.1:${other.port}`, `127.0.0.1:${echo.port}`, '2130706433', '/', ' HTTP/1.1', ' HTTP/1.0', '\r\n', '\n', '\r\n\r\n',
      'Host: ', 'Content-Length: ', 'Transfer-Encoding: chunked', '0', '5', '\t', ' ', ':', '@', '[::1]', '%00', '\x00', 'ä', '0\r\n\r\n', 'Connection: close',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(piece, fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 30 }), async (parts) => {
        const r = await rawRequest(port, parts.join(''), 400);
        assert.ok(r.status === 0 || r.status >= 400 || r.status === 200, `status ${r.status}`);
      }),
      { numRuns: 150 },
    );
    assert.equal(other.connections(), 0, 'no fuzzed request reached a host the policy does not allow');
    assert.equal((await get(port, `http://127.0.0.1:${echo.port}/after`)).status, 200);
  } finally {
    await other.close();
    await p.close();
  }
});

test('keep-alive: many requests over one client connection reuse one upstream connection', async () => {
  const { p, port } = await proxyWith([`127.0.0.1:${echo.port}`]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const before = echo.connections();
  try {
    for (let i = 0; i < 30; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: `http://127.0.0.1:${echo.port}/k${i}`, headers: { Host: `127.0.0.1:${echo.port}` }, agent }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal((JSON.parse(body) as { url: string }).url, `/k${i}`);
    }
    assert.equal(echo.connections() - before, 1);
  } finally {
    agent.destroy();
    await p.close();
  }
});

test('CONNECT tunnels relay bytes both ways and count them', async () => {
  const { p, port, events } = await proxyWith([`127.0.0.1:${echo.port}`]);
  try {
    const c = await connectTunnel(port, `127.0.0.1:${echo.port}`);
    assert.ok(c.ok);
    const s = c.socket;
    const got = await new Promise<string>((resolve) => {
      let b = '';
      s.on('data', (d) => (b += d));
      s.on('close', () => resolve(b));
      s.write(`GET /in-tunnel HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\nConnection: close\r\n\r\n`);
    });
    assert.match(got, /\/in-tunnel/);
    await new Promise((r) => setTimeout(r, 50));
    const e = events.find((x) => x.action === 'connect')!;
    assert.equal(e.decision, 'allow');
    assert.ok((e.detail!.bytesUp as number) > 30 && (e.detail!.bytesDown as number) > 30);
  } finally {
    await p.close();
  }
});

test('CONNECT: a TLS server name or inner Host naming another host closes the tunnel', async () => {
  const raw = await startRawServer();
  const { p, port, events } = await proxyWith([`echo.test:${raw.port}`, `127.0.0.1:${raw.port}`]);
  try {
    // matching SNI passes: the upstream receives the ClientHello
    const ok = await connectTunnel(port, `echo.test:${raw.port}`);
    assert.ok(ok.ok);
    const t1 = tls.connect({ socket: ok.socket, servername: 'echo.test' });
    t1.on('error', () => {});
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(raw.received()[0], 0x16);
    t1.destroy();
    const before = raw.received().length;
    // SNI of another host: nothing reaches the upstream
    const bad = await connectTunnel(port, `echo.test:${raw.port}`);
    assert.ok(bad.ok);
    const closed = new Promise((r) => bad.socket.on('close', r));
    const t2 = tls.connect({ socket: bad.socket, servername: 'evil.example' });
    t2.on('error', () => {});
    await closed;
    // HTTP inside naming another host
    const bad2 = await connectTunnel(port, `127.0.0.1:${raw.port}`);
    assert.ok(bad2.ok);
    const closed2 = new Promise((r) => bad2.socket.on('close', r));
    bad2.socket.write('GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n');
    await closed2;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(raw.received().length, before, 'the upstream received nothing from the refused tunnels');
    assert.equal(events.filter((e) => e.decision === 'deny' && /conflicting target/.test(String(e.detail?.reason))).length, 2);
  } finally {
    await raw.close();
    await p.close();
  }
});

test('CONNECT to a host whose rule restricts methods/paths is refused unless TLS is terminated', async () => {
  const { p, port } = await proxyWith([{ host: `127.0.0.1:${echo.port}`, methods: ['GET'] }]);
  try {
    const c = await connectTunnel(port, `127.0.0.1:${echo.port}`);
    assert.equal(!c.ok && c.res.status, 403);
    assert.match(!c.ok ? c.res.headers['x-airlock-deny']! : '', /TLS-terminated/);
    assert.equal((await get(port, `http://127.0.0.1:${echo.port}/`)).status, 200);
    const post = await rawRequest(port, `POST http://127.0.0.1:${echo.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    assert.equal(post.status, 403);
  } finally {
    await p.close();
  }
});

test('interceptor: checkRequest can refuse (exfiltration) or rewrite headers of plain HTTP requests', async () => {
  const seen: string[] = [];
  const interceptor: Interceptor = {
    checkRequest(req) {
      seen.push(`${req.method} ${req.host}:${req.port}${req.path} tls=${req.tls}`);
      if (req.headers.some(([, v]) => v.includes('airlock_ph_'))) return { action: 'deny', reason: 'placeholder sent to a host it is not for' };
      return { action: 'forward', headers: [...req.headers, ['X-Injected', 'yes']] };
    },
    wantsTermination: () => false,
    terminate: () => {},
  };
  const { p, port } = await proxyWith([`127.0.0.1:${echo.port}`], [], { interceptor });
  try {
    const ok = await get(port, `http://127.0.0.1:${echo.port}/x`);
    assert.equal(ok.status, 200);
    assert.ok((JSON.parse(ok.body) as { headers: string[] }).headers.includes('X-Injected'));
    const ex = await get(port, `http://127.0.0.1:${echo.port}/x`, 'Authorization: Bearer airlock_ph_s_123\r\n');
    assert.equal(ex.status, 403);
    assert.match(ex.headers['x-airlock-deny']!, /placeholder/);
    assert.deepEqual(seen[0], `GET 127.0.0.1:${echo.port}/x tls=false`);
  } finally {
    await p.close();
  }
});

test('interceptor: a placeholder sent to a host the policy denies is still shown to the broker (recorded as exfiltration)', async () => {
  const seen: string[] = [];
  const interceptor: Interceptor = {
    checkRequest(req) {
      seen.push(`${req.host}${req.path}`);
      if (req.headers.some(([, v]) => v.includes('airlock_ph_'))) return { action: 'deny', reason: 'exfiltration: placeholder sent to a host it is not for' };
      return { action: 'forward', headers: req.headers };
    },
    wantsTermination: () => false,
    terminate: () => {},
  };
  const { p, port } = await proxyWith([`127.0.0.1:${echo.port}`], [], { interceptor });
  try {
    const ex = await get(port, 'http://collector.invalid/upload', 'X-Token: airlock_ph_s_456\r\n');
    assert.equal(ex.status, 403);
    assert.match(ex.headers['x-airlock-deny']!, /exfiltration/);
    assert.deepEqual(seen, ['collector.invalid/upload']);
    const plain = await get(port, 'http://collector.invalid/other');
    assert.equal(plain.status, 403, 'a denied host stays denied when no placeholder is present');
  } finally {
    await p.close();
  }
});

function makeCert(cn: string): { key: string; cert: string } | undefined {
  const d = mkdtempSync(join(dir, 'cert-'));
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`, '-days', '1', '-keyout', join(d, 'k.pem'), '-out', join(d, 'c.pem')], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return { key: readFileSync(join(d, 'k.pem'), 'utf8'), cert: readFileSync(join(d, 'c.pem'), 'utf8') };
}

test('terminated CONNECT: methods/paths and Host are enforced per decrypted request, upstream over TLS with upstreamCA', async (t) => {
  const up = makeCert('term.test');
  if (!up) return t.skip('openssl not available');
  // A TLS upstream on loopback.
  const { createServer } = await import('node:https');
  const tlsUp = createServer({ key: up.key, cert: up.cert }, (req, res) => res.end(`tls-upstream ${req.method} ${req.url} auth=${req.headers.authorization ?? ''}`));
  await new Promise<void>((r) => tlsUp.listen(0, '127.0.0.1', r));
  const upPort = (tlsUp.address() as { port: number }).port;
  // A fake broker: "terminates" without TLS towards the client (plain HTTP on the tunnel) and
  // hands every request to the proxy's forward callback — the proxy half is what is under test.
  const inner = http.createServer();
  const interceptor: Interceptor = {
    checkRequest: (req) => ({ action: 'forward', headers: req.tls ? [...req.headers, ['Authorization', 'Bearer real']] : req.headers }),
    wantsTermination: (host) => host === 'term.test',
    terminate(client, target, forward) {
      inner.removeAllListeners('request');
      inner.on('request', (req, res) => forward(req, res, target));
      inner.emit('connection', client);
    },
  };
  const { p, port, events } = await proxyWith([{ host: `term.test:${upPort}`, methods: ['GET'], paths: ['/ok/**'] }, `127.0.0.1:${upPort}`], [], {
    interceptor,
    upstreamCA: up.cert,
    resolver: tableResolver({ 'term.test': ['127.0.0.1'] }),
  });
  try {
    const c = await connectTunnel(port, `term.test:${upPort}`);
    assert.ok(c.ok);
    const s = c.socket;
    const ask = (reqText: string) =>
      new Promise<string>((resolve) => {
        let b = '';
        const onData = (d: Buffer) => {
          b += d.toString();
          if (/\r\n\r\n/.test(b) && /content-length: (\d+)/i.test(b)) {
            const len = Number(/content-length: (\d+)/i.exec(b)![1]);
            if (b.length - b.indexOf('\r\n\r\n') - 4 >= len) {
              s.off('data', onData);
              resolve(b);
            }
          }
        };
        s.on('data', onData);
        s.write(reqText);
      });
    const ok = await ask(`GET /ok/1 HTTP/1.1\r\nHost: term.test:${upPort}\r\n\r\n`);
    assert.match(ok, /^HTTP\/1\.1 200/);
    assert.match(ok, /tls-upstream GET \/ok\/1 auth=Bearer real/);
    const wrongPath = await ask(`GET /admin HTTP/1.1\r\nHost: term.test:${upPort}\r\n\r\n`);
    assert.match(wrongPath, /^HTTP\/1\.1 403/);
    const wrongMethod = await ask(`DELETE /ok/1 HTTP/1.1\r\nHost: term.test:${upPort}\r\n\r\n`);
    assert.match(wrongMethod, /^HTTP\/1\.1 403/);
    const wrongHost = await ask(`GET /ok/1 HTTP/1.1\r\nHost: other.test\r\n\r\n`);
    assert.match(wrongHost, /^HTTP\/1\.1 400/);
    assert.match(wrongHost, /conflicting target/);
    s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const reqs = events.filter((e) => e.action === 'request');
    assert.equal(reqs.length, 4);
    assert.equal(reqs[0]!.detail!.tls, true);
  } finally {
    await p.close();
    tlsUp.close();
  }
});

test('worker mode: a spawnSync on the main thread does not stall the proxy', async (t) => {
  const curl = spawnSync('curl', ['--version']);
  if (curl.status !== 0) return t.skip('curl not installed');
  // The upstream must live outside this thread too: a child node process.
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>s.end('from-child')).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const upPort = await new Promise<number>((r) => child.stdout.once('data', (d) => r(Number(String(d).trim()))));
  const events: EventInput[] = [];
  let proxy: ProxyHandle | undefined;
  try {
    proxy = await startProxy({ policy: policy([`127.0.0.1:${upPort}`]), socketPath: sock(), audit: { emit: (e) => events.push(e) }, tcpPort: 0 });
    assert.equal(proxy.thread, 'worker');
    const r = spawnSync('curl', ['-s', '--max-time', '5', '-x', `http://127.0.0.1:${proxy.tcpPort}`, `http://127.0.0.1:${upPort}/`], { encoding: 'utf8' });
    assert.equal(r.stdout, 'from-child');
    const d = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-x', `http://127.0.0.1:${proxy.tcpPort}`, 'http://example.com/'], { encoding: 'utf8' });
    assert.equal(d.stdout, '403');
    await new Promise((r2) => setTimeout(r2, 50));
    assert.equal(events.length, 2, 'events from the worker reach the main-thread sink');
    assert.deepEqual(proxy.stats().hostsDenied, ['example.com:80']);
  } finally {
    await proxy?.close();
    child.kill();
  }
});

test('fail closed: the proxy refuses to start on a taken or impossible socket path', async () => {
  const taken = join(dir, 'taken.sock');
  writeFileSync(taken, '');
  await assert.rejects(startProxy({ policy: policy(['a.example']), socketPath: taken, audit: { emit() {} } }), { code: 'proxy-start' });
  await assert.rejects(startProxy({ policy: policy(['a.example']), socketPath: join(dir, 'no', 'such', 'dir', 'p.sock'), audit: { emit() {} } }), { code: 'proxy-start' });
  await assert.rejects(startProxy({ policy: policy(['a.example']), socketPath: join(dir, 'no', 'such', 'dir', 'p.sock'), audit: { emit() {} }, thread: 'inline' }), { code: 'proxy-start' });
});

test('fail closed: when the proxy worker dies the session records it and the socket stops answering', async () => {
  const events: EventInput[] = [];
  let died = '';
  const socketPath = sock();
  const proxy = await startProxy({
    policy: policy([`127.0.0.1:${echo.port}`]),
    socketPath,
    audit: { emit: (e) => events.push(e) },
    interceptorModule: { url: new URL('./fixtures/dying-interceptor.js', import.meta.url).href, exportName: 'createInterceptor' },
    onDeath: (why) => (died = why),
  });
  assert.equal(proxy.alive(), true);
  // the fixture interceptor kills its thread on the first request
  await rawRequest(socketPath, `GET http://127.0.0.1:${echo.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(proxy.alive(), false);
  assert.match(died, /exited/);
  const err = events.find((e) => e.kind === 'session' && e.action === 'error');
  assert.ok(err, 'a session error event was emitted');
  const after2 = await rawRequest(socketPath, `GET http://127.0.0.1:${echo.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\n`);
  assert.equal(after2.status, 0);
  await proxy.close();
});

test('startProxy accepts `tcp: true` and resolvers answering plain address strings', async () => {
  const events: EventInput[] = [];
  const p = await startProxy({
    policy: policy([`plain.test:${echo.port}`]),
    socketPath: sock(),
    audit: { emit: (e) => events.push(e) },
    tcp: true,
    resolver: async (h) => (h === 'plain.test' ? ['127.0.0.1'] : []),
  });
  try {
    assert.equal(p.port, p.tcpPort);
    const r = await get(p.port!, `http://plain.test:${echo.port}/`);
    assert.equal(r.status, 403, 'still guarded: 127.0.0.1 is not named');
    assert.match(r.headers['x-airlock-deny']!, /blocked address: plain\.test -> 127\.0\.0\.1 is loopback/);
  } finally {
    await p.close();
  }
});
