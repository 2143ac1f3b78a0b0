import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAddress, resolveAndCheck, type Resolver } from './guard.js';
import { parseIP, type IPAddr } from './ip.js';

const cls = (s: string) => classifyAddress(parseIP(s)!);

test('every refused range is refused', () => {
  const refused: [string, RegExp][] = [
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['10.1.2.3', /RFC 1918/],
    ['172.16.0.1', /RFC 1918/],
    ['172.31.255.255', /RFC 1918/],
    ['192.168.1.1', /RFC 1918/],
    ['100.64.0.1', /carrier-grade/],
    ['100.127.255.255', /carrier-grade/],
    ['169.254.169.254', /metadata/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['255.255.255.255', /broadcast/],
    ['240.0.0.1', /reserved/],
    ['192.0.2.1', /documentation/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['198.18.0.1', /benchmarking/],
    ['192.0.0.8', /IETF/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['fe80::1', /link-local/],
    ['febf::1', /link-local/],
    ['fd00:ec2::254', /ULA/],
    ['fc00::1', /ULA/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /IPv4-mapped/],
    ['::ffff:8.8.8.8', /IPv4-mapped/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['::ffff:0:a9fe:a9fe', /SIIT/],
    ['64:ff9b::127.0.0.1', /NAT64 form of 127.0.0.1: loopback/],
    ['64:ff9b::a9fe:a9fe', /NAT64 form of 169.254.169.254/],
    ['64:ff9b:1::1', /local-use NAT64/],
    ['2002:7f00:1::1', /6to4 form of 127.0.0.1/],
    ['2002:a9fe:a9fe::', /6to4 form of 169.254.169.254/],
    ['2001:0:7f00:1::', /Teredo server/],
    // Teredo client address is stored inverted: ~127.0.0.1 = 80ff:fffe
    ['2001:0:808:808:0:0:80ff:fffe', /Teredo client of 127.0.0.1/],
    ['2001:db8::1', /documentation/],
    ['100::1', /discard/],
  ];
  for (const [a, re] of refused) {
    const why = cls(a);
    assert.ok(why, `${a} must be refused`);
    assert.match(why, re, a);
  }
});

test('ordinary public addresses pass', () => {
  for (const a of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '64:ff9b::808:808', '2002:808:808::1', '2001:0:808:808::f7f7:f7f7', '11.0.0.1', '169.253.1.1']) {
    assert.equal(cls(a), undefined, a);
  }
});

const fixed =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const a = table[host];
    if (!a) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
const none = () => false;
const noDeny = () => undefined;

test('a name is refused when any one of its addresses is refused', async () => {
  const r = fixed({ 'mixed.test': ['93.184.216.34', '10.0.0.5'], 'good.test': ['93.184.216.34', '2606:4700::1'] });
  const bad = await resolveAndCheck('mixed.test', undefined, r, none, noDeny);
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.kind === 'blocked' && bad.address, '10.0.0.5');
  const good = await resolveAndCheck('good.test', undefined, r, none, noDeny);
  assert.equal(good.ok, true);
});

test('the policy can open a private address only by naming it', async () => {
  const r = fixed({ 'db.test': ['10.0.0.5'] });
  const exempt = (a: IPAddr) => a.text === '10.0.0.5';
  assert.equal((await resolveAndCheck('db.test', undefined, r, exempt, noDeny)).ok, true);
  assert.equal((await resolveAndCheck('db.test', undefined, r, none, noDeny)).ok, false);
});

test('resolution failures and garbage answers fail closed', async () => {
  const r = fixed({ 'zone.test': ['fe80::1%eth0'], 'empty.test': [] });
  const nx = await resolveAndCheck('nx.test', undefined, r, none, noDeny);
  assert.equal(!nx.ok && nx.kind, 'resolve');
  const z = await resolveAndCheck('zone.test', undefined, r, none, noDeny);
  assert.equal(!z.ok && z.kind, 'blocked');
  const e = await resolveAndCheck('empty.test', undefined, r, none, noDeny);
  assert.equal(e.ok, false);
});

test('deny rules on addresses apply to resolved addresses', async () => {
  const r = fixed({ 'x.test': ['93.184.216.34'] });
  const res = await resolveAndCheck('x.test', undefined, r, none, (a) => (a.text === '93.184.216.34' ? '93.184.216.0/24' : undefined));
  assert.equal(!res.ok && res.kind === 'blocked' && /deny rule/.test(res.why), true);
});
