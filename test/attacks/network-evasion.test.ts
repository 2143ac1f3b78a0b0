/**
 * Proxy-evasion attempts against the real proxy on loopback sockets. Every request here tries to
 * reach something the policy does not allow — another host, the loopback interface, the cloud
 * metadata address — by confusing the parser, the matcher or the resolver. Each must be refused
 * (400/403 or a closed tunnel), the refusal must be recorded, and nothing may reach the decoy
 * servers that stand in for forbidden targets.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileNetworkRule } from '../../src/policy/compile.js';
import type { EventInput } from '../../src/audit/types.js';
import { startProxy, type ProxyHandle } from '../../src/network/index.js';
import { connectTunnel, rawRequest, startEchoServer, startRawServer, tableResolver, type EchoServer } from '../../src/network/testing.js';

let allowed: EchoServer; // stands for an allowed public host (reached by name, resolved to a literal the policy names)
let decoy: EchoServer; // stands for a loopback service the agent must not reach
let proxy: ProxyHandle;
let port: number;
const events: EventInput[] = [];
const dir = mkdtempSync(join(tmpdir(), 'airlock-attack-net-'));

before(async () => {
  allowed = await startEchoServer();
  decoy = await startRawServer((_, s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nSECRET'));
  proxy = await startProxy({
    policy: {
      network: {
        allow: [
          `allowed.test:${allowed.port}`,
          `127.0.0.1:${allowed.port}`, // the literal naming that opens the loopback stand-in, for this port only
          'wide.test',
          '0.0.0.0/0', // "any IPv4 host": must still not open loopback, private or metadata addresses
          '::/0',
        ].map(compileNetworkRule),
        deny: [],
      },
    },
    socketPath: join(dir, 'p.sock'),
    audit: { emit: (e) => events.push(e) },
    tcpPort: 0,
    resolver: tableResolver({
      'allowed.test': ['127.0.0.1'],
      'wide.test': ['169.254.169.254'],
      'rebind.test': ['93.184.216.34', '127.0.0.1'],
      'localhost': ['127.0.0.1', '::1'],
    }),
  });
  port = proxy.tcpPort!;
});
after(async () => {
  await proxy.close();
  await allowed.close();
  await decoy.close();
  rmSync(dir, { recursive: true, force: true });
});

const refused = (status: number) => status === 400 || status === 403 || status === 0;

test('a request to the allowed host works (control)', async () => {
  const r = await rawRequest(port, `GET http://allowed.test:${allowed.port}/ok HTTP/1.1\r\nHost: allowed.test:${allowed.port}\r\nConnection: close\r\n\r\n`);
  assert.equal(r.status, 200);
});

test('URL and Host confusion never reaches another target', async () => {
  const d = decoy.port;
  const a = `allowed.test:${allowed.port}`;
  const attempts = [
    `GET http://${a}@127.0.0.1:${d}/ HTTP/1.1\r\nHost: 127.0.0.1:${d}\r\n\r\n`,
    `GET http://127.0.0.1:${d}/ HTTP/1.1\r\nHost: ${a}\r\n\r\n`,
    `GET http://${a}/ HTTP/1.1\r\nHost: 127.0.0.1:${d}\r\n\r\n`,
    `GET http://${a}/ HTTP/1.1\r\nHost: ${a}\r\nHost: 127.0.0.1:${d}\r\n\r\n`,
    `GET http://127.0.0.1:${d}#@${a}/ HTTP/1.1\r\nHost: ${a}\r\n\r\n`,
    `GET http://127.0.0.1:${d}\\@${a}/ HTTP/1.1\r\nHost: ${a}\r\n\r\n`,
    `GET http://%31%32%37.0.0.1:${d}/ HTTP/1.1\r\n\r\n`,
    `GET /http://${a}/ HTTP/1.1\r\nHost: 127.0.0.1:${d}\r\n\r\n`,
    `GET http://allowed.test.:${d}/ HTTP/1.1\r\nHost: allowed.test.:${d}\r\n\r\n`,
    `GET http://ALLOWED.TEST:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://0.0.0.0:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://0:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://127.1:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://2130706433:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://0x7f000001:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://0177.0.0.1:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://[::1]:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://[::ffff:127.0.0.1]:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://[0:0:0:0:0:ffff:7f00:1]:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://[::127.0.0.1]:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://[64:ff9b::7f00:1]:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://[2002:7f00:1::]:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://localhost:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://rebind.test:${d}/ HTTP/1.1\r\n\r\n`,
    `GET http://allowed.test:${allowed.port}/ HTTP/1.1\r\nHost: ${a}\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n`,
    `GET ftp://${a}/ HTTP/1.1\r\n\r\n`,
    `GET http://${a}/ HTTP/1.1\r\nHost: ${a}\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET http://127.0.0.1:${d}/ HTTP/1.1\r\n\r\n`,
  ];
  for (const req of attempts) {
    const r = await rawRequest(port, req, 2000);
    assert.ok(refused(r.status) || (r.status === 200 && r.body.includes('"url"')), `${JSON.stringify(req.slice(0, 90))} → ${r.status}`);
  }
  assert.equal(decoy.connections(), 0, 'nothing reached the loopback decoy');
});

test('the cloud metadata address in every spelling is refused, even when a name or 0.0.0.0/0 allows it', async () => {
  const spellings = ['169.254.169.254', '2852039166', '0xa9fea9fe', '0251.0376.0251.0376', '169.254.43518', '0xa9.0xfe.0xa9.0xfe', '[::ffff:169.254.169.254]', '[::ffff:a9fe:a9fe]', '[fd00:ec2::254]', '[64:ff9b::a9fe:a9fe]', '[2002:a9fe:a9fe::1]', 'wide.test'];
  for (const h of spellings) {
    const r = await rawRequest(port, `GET http://${h}/latest/meta-data/ HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`);
    assert.equal(r.status, 403, h);
    const c = await connectTunnel(port, `${h}:443`);
    assert.equal(!c.ok && c.res.status, 403, `CONNECT ${h}`);
  }
  assert.ok(events.filter((e) => e.decision === 'deny' && /blocked address/.test(String(e.detail?.reason))).length >= spellings.length);
});

test('pipelined requests are each decided: an allowed first request does not carry a forbidden second one', async () => {
  const a = `allowed.test:${allowed.port}`;
  const r = await rawRequest(port, `GET http://${a}/1 HTTP/1.1\r\nHost: ${a}\r\n\r\nGET http://127.0.0.1:${decoy.port}/2 HTTP/1.1\r\nHost: 127.0.0.1:${decoy.port}\r\nConnection: close\r\n\r\n`, 2000);
  assert.equal(r.status, 200);
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(decoy.connections(), 0);
});

test('CONNECT evasion: userinfo, paths, missing port, SNI and inner Host of another host', async () => {
  for (const target of [`allowed.test:${allowed.port}@127.0.0.1:${decoy.port}`, `127.0.0.1:${decoy.port}/x`, 'allowed.test', `allowed.test:${allowed.port}:1`, `[::1]:${decoy.port}`, `0:${decoy.port}`, `localhost:${decoy.port}`]) {
    const r = await rawRequest(port, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    assert.ok(r.status === 400 || r.status === 403, `${target} → ${r.status}`);
  }
  const t1 = await connectTunnel(port, `allowed.test:${allowed.port}`);
  assert.ok(t1.ok);
  const closed = new Promise((res) => t1.socket.on('close', res));
  const tl = tls.connect({ socket: t1.socket, servername: 'evil.example' });
  tl.on('error', () => {});
  await closed;
  const t2 = await connectTunnel(port, `allowed.test:${allowed.port}`);
  assert.ok(t2.ok);
  const closed2 = new Promise((res) => t2.socket.on('close', res));
  t2.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${decoy.port}\r\n\r\n`);
  await closed2;
  assert.equal(decoy.connections(), 0);
});

test('after all of this the proxy still serves', async () => {
  const r = await rawRequest(port, `GET http://allowed.test:${allowed.port}/still HTTP/1.1\r\nHost: allowed.test:${allowed.port}\r\nConnection: close\r\n\r\n`);
  assert.equal(r.status, 200);
  assert.ok(proxy.alive());
});
