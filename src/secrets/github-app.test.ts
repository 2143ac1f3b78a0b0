import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventInput } from '../audit/types.js';
import { loadPolicyText } from '../policy/index.js';
import { AirlockError } from '../util/errors.js';
import { startSecretBroker } from './index.js';
import { appJwt } from './github-app.js';
import { createSessionCA } from './x509.js';

interface Api {
  url: string;
  ca: string;
  minted: { installation: string; body: unknown; iss: unknown }[];
  revoked: string[];
  close(): void;
}

/** A loopback stand-in for the GitHub API endpoints the broker uses; verifies the app JWT with the public key. */
async function fakeGithub(publicKey: KeyObject, opts: { status?: number } = {}): Promise<Api> {
  const ca = createSessionCA('fake github CA');
  const leaf = ca.leaf('127.0.0.1');
  const api: Omit<Api, 'url' | 'close'> = { ca: ca.certPem, minted: [], revoked: [] };
  let n = 0;
  const live = new Set<string>();
  const server = createServer({ key: leaf.keyPem, cert: leaf.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(req.url ?? '');
      if (req.method === 'POST' && m) {
        const [h, p, s] = auth.split('.');
        const ok = !!(h && p && s) && verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url'));
        const header = ok ? JSON.parse(Buffer.from(h!, 'base64url').toString()) : {};
        const payload = ok ? JSON.parse(Buffer.from(p!, 'base64url').toString()) : {};
        const now = Date.now() / 1000;
        if (!ok || header.alg !== 'RS256' || !(payload.iat <= now && payload.exp > now && payload.exp - payload.iat <= 600) || opts.status) {
          res.writeHead(opts.status ?? 401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: 'A JSON web token could not be decoded' }));
          return;
        }
        const token = `ghs_minted${++n}_${'x'.repeat(20)}`;
        live.add(token);
        api.minted.push({ installation: m[1]!, body: JSON.parse(Buffer.concat(chunks).toString() || '{}'), iss: payload.iss });
        res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: { contents: 'read' } }));
        return;
      }
      if (req.method === 'DELETE' && req.url === '/installation/token') {
        if (!live.delete(auth)) return res.writeHead(401).end();
        api.revoked.push(auth);
        return res.writeHead(204).end();
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { ...api, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() } as Api;
}

class Sink {
  events: EventInput[] = [];
  emit(e: EventInput) {
    this.events.push(e);
  }
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-gh-'));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  writeFileSync(join(dir, 'app.pem'), pem, { mode: 0o600 });
  return { dir, pem, publicKey };
}

const policyText = (apiUrl: string, extra = '') => `
version: 1
network: { allow: [api.github.com] }
secrets:
  GH_TOKEN:
    mint:
      provider: github-app
      appId: 4242
      installationId: 777
      privateKey: file:app.pem
      repositories: [app]
      permissions: { contents: read, pull_requests: write }
      apiUrl: ${apiUrl}
    inject: { host: api.github.com, header: Authorization, format: "Bearer {}" }
${extra}`;

test('github-app: JWT is RS256 with iss = app id and a lifetime under 10 minutes', () => {
  const { pem, publicKey, dir } = setup();
  const jwt = appJwt('4242', pem, Date.UTC(2026, 10, 28));
  const [h, p, s] = jwt.split('.');
  assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s!, 'base64url')));
  assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), { alg: 'RS256', typ: 'JWT' });
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
  assert.equal(payload.iss, 4242);
  assert.equal(payload.exp - payload.iat, 600);
  assert.throws(() => appJwt('1', 'not a key'), /not a PEM private key/);
  rmSync(dir, { recursive: true, force: true });
});

test('github-app: a scoped installation token is minted at start, injected toward the host, and revoked at close', async () => {
  const { dir, publicKey } = setup();
  const api = await fakeGithub(publicKey);
  try {
    const sink = new Sink();
    const policy = loadPolicyText(policyText(api.url), join(dir, 'airlock.yaml'));
    const br = await startSecretBroker({ policy, sessionId: 's-gh', audit: sink, upstreamCA: api.ca });
    assert.equal(api.minted.length, 1);
    assert.deepEqual(api.minted[0], { installation: '777', iss: 4242, body: { repositories: ['app'], permissions: { contents: 'read', pull_requests: 'write' } } });
    assert.match(br.env.GH_TOKEN!, /^airlock_ph_/);
    const d = br.interceptor.checkRequest({ host: 'api.github.com', port: 443, method: 'GET', path: '/repos/acme/app', tls: true, headers: [['Host', 'api.github.com']] });
    assert.equal(d.action, 'forward');
    const token = d.action === 'forward' ? d.headers.find(([n]) => n === 'Authorization')![1].slice(7) : '';
    assert.match(token, /^ghs_minted1_/);
    await br.close();
    assert.deepEqual(api.revoked, [token]);
    const revoke = sink.events.find((e) => e.action === 'revoke');
    assert.equal(revoke?.decision, 'allow');
    assert.ok(!JSON.stringify(sink.events).includes(token), 'events never hold the token');
    assert.ok(!JSON.stringify(sink.events).includes('PRIVATE KEY'));
  } finally {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('github-app: a refused mint stops the session start with the status, never the key', async () => {
  const { dir, publicKey, pem } = setup();
  const api = await fakeGithub(publicKey, { status: 403 });
  try {
    const policy = loadPolicyText(policyText(api.url), join(dir, 'airlock.yaml'));
    const err = await startSecretBroker({ policy, sessionId: 's-gh2', audit: new Sink(), upstreamCA: api.ca }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AirlockError);
    assert.match(err.message, /secrets\.GH_TOKEN\.mint \(github-app 4242, installation 777\): GitHub answered HTTP 403/);
    assert.ok(!err.message.includes(pem.slice(40, 80)));
  } finally {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('github-app: the API server is verified — without its CA in upstreamCA the mint fails', async () => {
  const { dir, publicKey } = setup();
  const api = await fakeGithub(publicKey);
  try {
    const policy = loadPolicyText(policyText(api.url), join(dir, 'airlock.yaml'));
    const err = await startSecretBroker({ policy, sessionId: 's-gh3', audit: new Sink() }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AirlockError);
    assert.match(err.message, /cannot reach https:\/\/127\.0\.0\.1:\d+/);
    assert.equal(api.minted.length, 0);
  } finally {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('github-app: when another secret fails at start, the token already minted is revoked', async () => {
  const { dir, publicKey } = setup();
  const api = await fakeGithub(publicKey);
  try {
    const extra = `  OTHER:\n    from: env:AIRLOCK_TEST_UNSET_VAR\n    inject: { host: api.github.com, header: X-Other }\n`;
    const policy = loadPolicyText(policyText(api.url, extra), join(dir, 'airlock.yaml'));
    const err = await startSecretBroker({ policy, sessionId: 's-gh4', audit: new Sink(), upstreamCA: api.ca, env: {} }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof AirlockError);
    assert.match(err.message, /secrets\.OTHER/);
    assert.equal(api.minted.length, 1);
    assert.equal(api.revoked.length, 1);
  } finally {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
