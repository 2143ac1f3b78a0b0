import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIP, parseHostLiteral, parseIPv4Loose, parseIPv6, parseIP } from './ip.js';

const v4 = (s: string) => {
  const b = parseIPv4Loose(s);
  return b ? Array.from(b).join('.') : undefined;
};

test('alternate IPv4 spellings are read as the address inet_aton reads', () => {
  for (const s of ['127.0.0.1', '2130706433', '0x7f000001', '0X7F000001', '0177.0.0.1', '0177.0.0.01', '127.1', '127.0.1', '0x7f.1', '0x7f.0.0.0x1', '017700000001']) {
    assert.equal(v4(s), '127.0.0.1', s);
  }
  assert.equal(v4('0'), '0.0.0.0');
  assert.equal(v4('169.254.43518'), '169.254.169.254');
  assert.equal(v4('0xa9fea9fe'), '169.254.169.254');
  assert.equal(v4('4294967295'), '255.255.255.255');
});

test('invalid IPv4 spellings are not addresses', () => {
  for (const s of ['256.0.0.1', '4294967296', '1.2.3.4.5', '08.0.0.1', '1..1', '', '0x1g', '1.2.3.256', '1.2.65536', '1.16777216', 'a.b.c.d']) {
    assert.equal(v4(s), undefined, s);
  }
});

test('IPv6 parses and prints canonically (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::', '::'],
    ['FD00:EC2::254', 'fd00:ec2::254'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ];
  for (const [i, o] of cases) assert.equal(formatIP(6, parseIPv6(i)!), o, i);
  for (const bad of ['1:::2', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1']) assert.equal(parseIPv6(bad), undefined, bad);
});

test('formatIP and parseIPv6 round-trip random addresses', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      const text = formatIP(6, b);
      assert.deepEqual(Array.from(parseIPv6(text)!), Array.from(b));
      assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
    }),
  );
});

test('host literals: numeric last label must be an address, else ambiguous', () => {
  assert.deepEqual(parseHostLiteral('127.1'), { kind: 'ip', ip: parseIP('127.0.0.1') });
  assert.deepEqual(parseHostLiteral('127.0.0.1.'), { kind: 'ip', ip: parseIP('127.0.0.1') });
  assert.deepEqual(parseHostLiteral('[::1]'), { kind: 'ip', ip: parseIP('::1') });
  assert.equal(parseHostLiteral('example.com').kind, 'name');
  assert.equal(parseHostLiteral('foo.123').kind, 'ambiguous');
  assert.equal(parseHostLiteral('999.1.1.1').kind, 'ambiguous');
  assert.equal(parseHostLiteral('[fe80::1%25eth0]').kind, 'ambiguous');
  assert.equal(parseHostLiteral('a%2eb').kind, 'ambiguous');
  assert.equal(parseHostLiteral('1.2.3.0x').kind, 'ip');
});

test('our IPv4 reading agrees with the WHATWG URL parser', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.nat(300).map(String),
          fc.nat(0xffffffff).map((n) => `0x${n.toString(16)}`),
          fc.nat(0o777).map((n) => `0${n.toString(8)}`),
          fc.nat(0xffffffff).map(String),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      (parts) => {
        const s = parts.join('.');
        let url: string | undefined;
        try {
          url = new URL(`http://${s}/`).hostname;
        } catch {
          url = undefined;
        }
        assert.equal(v4(s), url, s);
      },
    ),
  );
});
