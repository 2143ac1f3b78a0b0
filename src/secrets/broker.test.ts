import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventInput } from '../audit/types.js';
import type { RequestView } from '../network/interceptor.js';
import { loadPolicyText } from '../policy/index.js';
import { AirlockError } from '../util/errors.js';
import { startSecretBroker } from './index.js';

const REAL = 'ghp_REALvalue_0123456789abcdefXYZ';

class Sink {
  events: EventInput[] = [];
  emit(e: EventInput) {
    this.events.push(e);
  }
  of(action: string) {
    return this.events.filter((e) => e.kind === 'secret' && e.action === action);
  }
}

function policy(yaml: string, dir = tmpdir()) {
  return loadPolicyText(yaml, join(dir, 'airlock.yaml'));
}

const BASE = `
version: 1
network:
  allow: [api.example.com, other.example.com, "*.files.example.net", { host: rules.example.org, methods: [GET] }]
secrets:
  TOKEN:
    from: env:HOST_TOKEN
    inject: { host: api.example.com, header: Authorization, format: "Bearer {}" }
`;

function req(p: Partial<RequestView> & { headers?: [string, string][] }): RequestView {
  const host = p.host ?? 'api.example.com';
  const port = p.port ?? 443;
  return { host, port, method: 'GET', path: '/', tls: true, ...p, headers: p.headers ?? [['Host', port === 443 ? host : `${host}:${port}`]] };
}

function headerOf(d: ReturnType<import('../network/interceptor.js').Interceptor['checkRequest']>, name: string) {
  assert.equal(d.action, 'forward', JSON.stringify(d));
  if (d.action !== 'forward') return undefined;
  return d.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

function noValueIn(sink: Sink, value = REAL) {
  assert.ok(!JSON.stringify(sink.events).includes(value), 'an audit event contains the real value');
}

test('env holds a recognisable placeholder, unique per session, never the value', async () => {
  const a = await startSecretBroker({ policy: policy(BASE), sessionId: '20261128T180000Z-aaaa1111', audit: new Sink(), env: { HOST_TOKEN: REAL } });
  const b = await startSecretBroker({ policy: policy(BASE), sessionId: '20261128T180000Z-bbbb2222', audit: new Sink(), env: { HOST_TOKEN: REAL } });
  assert.match(a.env.TOKEN!, /^airlock_ph_aaaa1111_[0-9a-f]{32}$/);
  assert.notEqual(a.env.TOKEN, b.env.TOKEN);
  assert.ok(!JSON.stringify(a.env).includes(REAL));
  assert.deepEqual(a.names, ['TOKEN']);
  await a.close();
  await b.close();
});

test('header rule: injects "Bearer <value>" toward the declared host over terminated TLS and records use (name + host only)', async () => {
  const sink = new Sink();
  const br = await startSecretBroker({ policy: policy(BASE), sessionId: 's-1', audit: sink, env: { HOST_TOKEN: REAL } });
  const d = br.interceptor.checkRequest(req({ headers: [['Host', 'api.example.com'], ['Authorization', `token ${br.env.TOKEN}`]] }));
  assert.deepEqual(headerOf(d, 'authorization'), [`Bearer ${REAL}`]);
  // also added when the agent sends no header at all
  assert.deepEqual(headerOf(br.interceptor.checkRequest(req({})), 'authorization'), [`Bearer ${REAL}`]);
  const use = sink.of('use');
  assert.equal(use.length, 2);
  assert.equal(use[0]!.subject, 'TOKEN');
  assert.equal(use[0]!.detail?.host, 'api.example.com:443');
  noValueIn(sink);
  await br.close();
});

test('replacement rule (no header): the placeholder is replaced in any header, including inside Basic credentials', async () => {
  const sink = new Sink();
  const yaml = BASE.replace('inject: { host: api.example.com, header: Authorization, format: "Bearer {}" }', 'inject: { host: api.example.com }');
  const br = await startSecretBroker({ policy: policy(yaml), sessionId: 's-2', audit: sink, env: { HOST_TOKEN: REAL } });
  const ph = br.env.TOKEN!;
  const basic = `Basic ${Buffer.from(`x-access-token:${ph}`).toString('base64')}`;
  const d = br.interceptor.checkRequest(req({ headers: [['Host', 'api.example.com'], ['X-Api-Key', ph], ['Authorization', basic]] }));
  assert.deepEqual(headerOf(d, 'x-api-key'), [REAL]);
  assert.deepEqual(headerOf(d, 'authorization'), [`Basic ${Buffer.from(`x-access-token:${REAL}`).toString('base64')}`]);
  // nothing carried, no header rule → nothing injected
  assert.deepEqual(headerOf(br.interceptor.checkRequest(req({})), 'x-api-key'), []);
  noValueIn(sink);
  await br.close();
});

test('basic format writes HTTP basic auth from user:password', async () => {
  const yaml = BASE.replace('format: "Bearer {}"', 'format: basic');
  const br = await startSecretBroker({ policy: policy(yaml), sessionId: 's-3', audit: new Sink(), env: { HOST_TOKEN: 'bob:s3cret' } });
  assert.deepEqual(headerOf(br.interceptor.checkRequest(req({})), 'authorization'), [`Basic ${Buffer.from('bob:s3cret').toString('base64')}`]);
  await br.close();
});

test('exfiltration: placeholder to another host, in the URL, or over plain HTTP is denied and recorded; value never injected', async () => {
  const sink = new Sink();
  const br = await startSecretBroker({ policy: policy(BASE), sessionId: 's-4', audit: sink, env: { HOST_TOKEN: REAL } });
  const ph = br.env.TOKEN!;
  const cases: RequestView[] = [
    req({ host: 'other.example.com', headers: [['Host', 'other.example.com'], ['Authorization', `Bearer ${ph}`]] }),
    req({ host: 'other.example.com', tls: false, headers: [['Host', 'other.example.com'], ['X-Leak', ph]] }),
    req({ path: `/search?q=${ph}` }),
    req({ path: `/x/${encodeURIComponent(ph).replace(/_/g, '%5F')}` }),
    req({ tls: false, port: 80, headers: [['Host', 'api.example.com'], ['Authorization', `Bearer ${ph}`]] }),
    req({ host: 'other.example.com', headers: [['Host', 'other.example.com'], ['Authorization', `Basic ${Buffer.from(`u:${ph}`).toString('base64')}`]] }),
    req({ host: 'api.example.com.evil.test', headers: [['Host', 'api.example.com.evil.test'], ['Authorization', ph.toUpperCase()]] }),
  ];
  for (const c of cases) {
    const d = br.interceptor.checkRequest(c);
    assert.equal(d.action, 'deny', `${c.host}${c.path} tls=${c.tls}`);
    if (d.action === 'deny') {
      assert.equal(d.status ?? 403, 403);
      assert.match(d.reason, /TOKEN/);
      assert.ok(!d.reason.includes(REAL));
    }
  }
  assert.equal(sink.of('exfiltration').length, cases.length);
  assert.equal(sink.of('use').length, 0);
  assert.ok(sink.of('exfiltration').every((e) => e.decision === 'deny' && e.subject === 'TOKEN'));
  noValueIn(sink);
  // requests to other hosts without a placeholder pass untouched
  const clean = br.interceptor.checkRequest(req({ host: 'other.example.com', headers: [['Host', 'other.example.com'], ['Authorization', 'Bearer mine']] }));
  assert.deepEqual(headerOf(clean, 'authorization'), ['Bearer mine']);
  await br.close();
});

test('Host header must agree with the TLS target before anything is injected', async () => {
  const sink = new Sink();
  const br = await startSecretBroker({ policy: policy(BASE), sessionId: 's-5', audit: sink, env: { HOST_TOKEN: REAL } });
  for (const h of ['other.example.com', 'api.example.com:8443', '']) {
    const d = br.interceptor.checkRequest(req({ headers: h ? [['Host', h]] : [] }));
    assert.equal(d.action, 'deny', h);
  }
  assert.equal(headerOf(br.interceptor.checkRequest(req({ headers: [['host', 'API.example.com.:443']] })), 'authorization')!.length, 1);
  assert.equal(sink.of('refuse').length, 3);
  await br.close();
});

test('an unknown or foreign placeholder is refused', async () => {
  const sink = new Sink();
  const br = await startSecretBroker({ policy: policy(BASE), sessionId: 's-6', audit: sink, env: { HOST_TOKEN: REAL } });
  const d = br.interceptor.checkRequest(req({ headers: [['Host', 'api.example.com'], ['X-Other', 'airlock_ph_deadbeef_00000000000000000000000000000000']] }));
  assert.equal(d.action, 'deny');
  assert.equal(sink.of('refuse').length, 1);
  await br.close();
});

test('TTL: after expiry the placeholder maps to nothing and is refused with a clear reason', async () => {
  const sink = new Sink();
  const br = await startSecretBroker({ policy: policy(BASE.replace('format: "Bearer {}" }', 'format: "Bearer {}" }\n    ttl: 300ms')), sessionId: 's-7', audit: sink, env: { HOST_TOKEN: REAL } });
  const carrying = req({ headers: [['Host', 'api.example.com'], ['Authorization', `Bearer ${br.env.TOKEN}`]] });
  assert.deepEqual(headerOf(br.interceptor.checkRequest(carrying), 'authorization'), [`Bearer ${REAL}`]);
  await sleep(400);
  const d = br.interceptor.checkRequest(carrying);
  assert.equal(d.action, 'deny');
  if (d.action === 'deny') assert.match(d.reason, /secret TOKEN expired at \d{4}-/);
  // a request that does not carry it gets nothing injected
  assert.deepEqual(headerOf(br.interceptor.checkRequest(req({})), 'authorization'), []);
  assert.equal(sink.of('refuse').length, 1);
  assert.equal(sink.of('expire').length, 1);
  noValueIn(sink);
  await br.close();
});

test('close(): placeholders are revoked, requests refused as "revoked at session end", termination stops', async () => {
  const br = await startSecretBroker({ policy: policy(BASE), sessionId: 's-8', audit: new Sink(), env: { HOST_TOKEN: REAL } });
  assert.equal(br.interceptor.wantsTermination('api.example.com', 443), true);
  await br.close();
  const d = br.interceptor.checkRequest(req({ headers: [['Host', 'api.example.com'], ['Authorization', `Bearer ${br.env.TOKEN}`]] }));
  assert.equal(d.action, 'deny');
  if (d.action === 'deny') assert.match(d.reason, /revoked at session end/);
  assert.deepEqual(headerOf(br.interceptor.checkRequest(req({})), 'authorization'), []);
  assert.equal(br.interceptor.wantsTermination('api.example.com', 443), false);
  await br.close(); // idempotent
});

test('renew: a cmd: source is re-run before expiry and the same placeholder carries the new value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-renew-'));
  try {
    const counter = join(dir, 'n');
    writeFileSync(counter, '0');
    const cmd = `n=$(cat ${counter}); n=$((n+1)); echo $n > ${counter}; echo tok-$n`;
    const yaml = `
version: 1
network: { allow: [api.example.com] }
secrets:
  TOKEN:
    from: "cmd:${cmd}"
    inject: { host: api.example.com, header: X-Token }
    ttl: 1200ms
    renew: true
`;
    const sink = new Sink();
    const br = await startSecretBroker({ policy: policy(yaml, dir), sessionId: 's-9', audit: sink });
    assert.deepEqual(headerOf(br.interceptor.checkRequest(req({})), 'x-token'), ['tok-1']);
    for (let i = 0; i < 60 && sink.of('renew').length === 0; i++) await sleep(50); // renewal starts at 900 ms
    const renewed = headerOf(br.interceptor.checkRequest(req({ headers: [['Host', 'api.example.com'], ['X-Token', br.env.TOKEN!]] })), 'x-token');
    assert.equal(renewed?.length, 1);
    assert.match(renewed![0]!, /^tok-[2-9]$/, 'renewed value, not the first one');
    assert.ok(sink.of('renew').length >= 1);
    assert.equal(sink.of('refuse').length, 0);
    await br.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sources: env, file and cmd values are trimmed; failures name the secret and never show the value', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-src-'));
  try {
    writeFileSync(join(dir, 'tok'), `  ${REAL}\n`);
    const mk = (from: string) => policy(`version: 1\nnetwork: { allow: [api.example.com] }\nsecrets:\n  TOKEN: { from: ${JSON.stringify(from)}, inject: { host: api.example.com, header: X-T } }\n`, dir);
    for (const from of ['file:tok', `cmd:printf '%s\\n' ${REAL}`]) {
      const br = await startSecretBroker({ policy: mk(from), sessionId: 's-10', audit: new Sink() });
      assert.deepEqual(headerOf(br.interceptor.checkRequest(req({})), 'x-t'), [REAL], from);
      await br.close();
    }
    const failing: [string, RegExp][] = [
      ['env:NOPE_NOT_SET', /secrets\.TOKEN \(env:NOPE_NOT_SET\): environment variable NOPE_NOT_SET is not set/],
      ['file:missing', /secrets\.TOKEN \(file:.*missing\): cannot read the file \(ENOENT\)/],
      [`cmd:echo ${REAL}; exit 3`, /secrets\.TOKEN \(cmd:…\): the command failed \(exit 3\)/],
      [`cmd:echo ${REAL}; echo ${REAL} >&2; sleep 5`, /did not finish within 1s/],
      [`cmd:printf '${REAL}\\nsecond'`, /control characters or line breaks/],
      ['cmd:true', /the value is empty/],
    ];
    for (const [from, re] of failing) {
      const p = mk(from);
      const err = await (async () => {
        // a short timeout for the slow command
        const { readSecretSource } = await import('./sources.js');
        if (from.includes('sleep')) return readSecretSource('TOKEN', p.secrets[0]!.source!, { timeoutMs: 1000 }).then(() => undefined, (e: unknown) => e);
        return startSecretBroker({ policy: p, sessionId: 's-11', audit: new Sink(), env: {} }).then(() => undefined, (e: unknown) => e);
      })();
      assert.ok(err instanceof AirlockError, `${from}: ${String(err)}`);
      assert.match(err.message, re);
      assert.ok(!`${err.message} ${err.hint ?? ''}`.includes(REAL), `${from}: the error shows the value`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wantsTermination: only hosts with an injection rule or method/path rules', async () => {
  const yaml = BASE + `  FILES:\n    from: env:HOST_TOKEN\n    inject: { host: "*.files.example.net:8443" }\n`;
  const br = await startSecretBroker({ policy: policy(yaml), sessionId: 's-12', audit: new Sink(), env: { HOST_TOKEN: REAL } });
  const w = br.interceptor.wantsTermination;
  assert.equal(w('api.example.com', 443), true);
  assert.equal(w('API.Example.com.', 443), true);
  assert.equal(w('rules.example.org', 443), true, 'method rule');
  assert.equal(w('other.example.com', 443), false);
  assert.equal(w('a.files.example.net', 8443), true);
  assert.equal(w('a.files.example.net', 443), false);
  assert.equal(w('files.example.net', 8443), false, 'a wildcard does not cover the apex');
  await br.close();
});

test('sandboxCaFiles: merged bundle = system store + session CA; env points every TLS stack at it; no private key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-ca-'));
  try {
    const br = await startSecretBroker({ policy: policy(BASE), sessionId: 's-13', audit: new Sink(), env: { HOST_TOKEN: REAL } });
    const f = br.sandboxCaFiles(join(dir, 'ca'), { sandboxDir: '/run/airlock/ca' });
    const bundle = readFileSync(f.bundlePath, 'utf8');
    assert.ok(bundle.endsWith(br.caCertPem));
    assert.ok((bundle.match(/BEGIN CERTIFICATE/g) ?? []).length > 10, 'system roots included');
    assert.equal(readFileSync(f.caPath, 'utf8'), br.caCertPem);
    assert.ok(!bundle.includes('PRIVATE KEY'));
    for (const k of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO']) assert.equal(f.env[k], '/run/airlock/ca/ca-bundle.pem');
    assert.equal(f.env.NODE_EXTRA_CA_CERTS, '/run/airlock/ca/session-ca.pem');
    assert.deepEqual(f.mounts, [{ source: join(dir, 'ca'), target: '/run/airlock/ca', kind: 'bind', readonly: true }]);
    await br.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('onValue hands each value to a redaction hook once; secretsIn names (never returns) matching secrets', async () => {
  const seen: [string, string][] = [];
  const br = await startSecretBroker({ policy: policy(BASE), sessionId: 's-14', audit: new Sink(), env: { HOST_TOKEN: REAL }, onValue: (n, v) => seen.push([n, v]) });
  assert.deepEqual(seen, [['TOKEN', REAL]]);
  assert.deepEqual(br.secretsIn(`x ${REAL} y`), ['TOKEN']);
  assert.deepEqual(br.secretsIn('nothing here'), []);
  await br.close();
  assert.deepEqual(br.secretsIn(REAL), [], 'after close no value is held');
});
