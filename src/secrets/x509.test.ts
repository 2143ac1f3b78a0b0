import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createSessionCA } from './x509.js';
import { int, namedBits, oid, tlv, time } from './asn1.js';

test('asn1: INTEGER is minimal and positive, lengths switch to long form at 128 bytes', () => {
  assert.deepEqual(int(0), Buffer.from([2, 1, 0]));
  assert.deepEqual(int(127), Buffer.from([2, 1, 0x7f]));
  assert.deepEqual(int(128), Buffer.from([2, 2, 0, 0x80]));
  assert.deepEqual(int(Buffer.from([0, 0, 1])), Buffer.from([2, 1, 1]));
  assert.deepEqual(tlv(4, Buffer.alloc(127)).subarray(0, 2), Buffer.from([4, 127]));
  assert.deepEqual(tlv(4, Buffer.alloc(128)).subarray(0, 3), Buffer.from([4, 0x81, 128]));
  assert.deepEqual(tlv(4, Buffer.alloc(300)).subarray(0, 4), Buffer.from([4, 0x82, 1, 44]));
});

test('asn1: OIDs, named bit strings and times encode as in X.690', () => {
  assert.deepEqual(oid('1.2.840.10045.4.3.2'), Buffer.from('06082a8648ce3d040302', 'hex'));
  assert.deepEqual(oid('2.5.29.17'), Buffer.from('0603551d11', 'hex'));
  assert.deepEqual(namedBits([0]), Buffer.from('03020780', 'hex')); // digitalSignature
  assert.deepEqual(namedBits([0, 5, 6]), Buffer.from('03020186', 'hex')); // + keyCertSign, cRLSign
  assert.equal(time(new Date(Date.UTC(2026, 10, 28, 18, 5, 9))).subarray(2).toString(), '261128180509Z');
  assert.equal(time(new Date(Date.UTC(2051, 0, 2, 3, 4, 5))).subarray(2).toString(), '20510102030405Z');
});

test('session CA: self-signed CA cert parses, is a CA, and verifies with its own key', () => {
  const ca = createSessionCA('airlock session CA test');
  const c = new X509Certificate(ca.certPem);
  assert.equal(c.ca, true);
  assert.match(c.subject, /CN=airlock session CA test/);
  assert.ok(c.verify(c.publicKey));
  assert.ok(!ca.certPem.includes('PRIVATE'));
});

test('session CA: leaves for names and IPs carry the right SAN, chain to the CA, and are cached', () => {
  const ca = createSessionCA('t');
  const a = ca.leaf('api.example.com');
  assert.equal(ca.leaf('API.example.com'), a, 'cached per host, case-insensitive');
  const x = new X509Certificate(a.certPem);
  assert.equal(x.ca, false);
  assert.ok(x.verify(ca.certificate.publicKey));
  assert.ok(x.checkIssued(ca.certificate));
  assert.equal(x.subjectAltName, 'DNS:api.example.com');
  assert.equal(x.checkHost('api.example.com'), 'api.example.com');
  assert.equal(x.checkHost('evil.example.com'), undefined);
  assert.equal(new X509Certificate(ca.leaf('127.0.0.1').certPem).checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(new X509Certificate(ca.leaf('::1').certPem).checkIP('::1'), '::1');
  assert.equal(new X509Certificate(ca.leaf('2001:db8::7:1').certPem).checkIP('2001:db8::7:1'), '2001:db8::7:1');
  const other = createSessionCA('other');
  assert.equal(x.verify(other.certificate.publicKey), false, 'another session CA did not sign it');
  assert.equal(ca.issued, 4);
  ca.destroy();
  assert.throws(() => ca.leaf('new.example.com'), /destroyed/);
});

test('session CA: `openssl verify` accepts the leaf for its host (purpose sslserver) and rejects other hosts', (t) => {
  if (spawnSync('openssl', ['version']).status !== 0) return t.skip('openssl not installed');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-x509-'));
  try {
    const ca = createSessionCA('openssl test');
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    writeFileSync(join(dir, 'leaf.pem'), ca.leaf('registry.example.org').certPem);
    writeFileSync(join(dir, 'ip.pem'), ca.leaf('127.0.0.1').certPem);
    const ok = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'registry.example.org', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const ip = spawnSync('openssl', ['verify', '-x509_strict', '-verify_ip', '127.0.0.1', '-CAfile', join(dir, 'ca.pem'), join(dir, 'ip.pem')], { encoding: 'utf8' });
    assert.equal(ip.status, 0, ip.stdout + ip.stderr);
    const bad = spawnSync('openssl', ['verify', '-verify_hostname', 'evil.example.org', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('session CA: a real TLS handshake succeeds for the host with only the CA trusted, fails for another name', async () => {
  const ca = createSessionCA('handshake');
  const server = createServer({ SNICallback: (name, cb) => cb(null, ca.leaf(name).context) }, (s) => s.end('hello'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const greet = await new Promise<string>((resolve, reject) => {
      const s: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'svc.internal.test', ca: [ca.certPem] }, () => {
        assert.equal(s.authorized, true);
        let data = '';
        s.on('data', (d) => (data += d));
        s.on('end', () => resolve(data));
      });
      s.on('error', reject);
    });
    assert.equal(greet, 'hello');
    // Same CA, but the client checks another name than the leaf's: refused.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, servername: 'a.test', ca: [ca.certPem], checkServerIdentity: (_h, cert) => (cert.subjectaltname === 'DNS:b.test' ? undefined : new Error(`wrong name ${cert.subjectaltname}`)) }, () => resolve(s));
        s.on('error', reject);
      }),
      /wrong name DNS:a.test/,
    );
    // Without the CA: untrusted.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, servername: 'svc.internal.test' }, () => resolve(s));
        s.on('error', reject);
      }),
      /self[- ]signed|unable to get local issuer|unable to verify/i,
    );
  } finally {
    server.close();
  }
});
