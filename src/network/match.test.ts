import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileNetworkRule } from '../policy/compile.js';
import { canonicalPath, compileNetworkMatcher, normalizeTarget, splitHostPort, type Target } from './match.js';
import { parseIP } from './ip.js';

type Rule = Parameters<typeof compileNetworkRule>[0];
const matcher = (allow: Rule[], deny: Rule[] = []) => compileNetworkMatcher({ allow: allow.map(compileNetworkRule), deny: deny.map(compileNetworkRule) });
const target = (raw: string, port: number, method?: string, path?: string): Target => {
  const n = normalizeTarget(raw);
  if (!n.ok) throw new Error(n.why);
  return { host: n.host, ip: n.ip, port, method, path };
};

test('allow/deny matrix', () => {
  const m = matcher(
    [
      'registry.npmjs.org',
      '*.githubusercontent.com',
      'api.example.com:8443',
      { host: 'api.github.com', methods: ['GET', 'post'], paths: ['/repos/acme/**'] },
      '93.184.216.34',
      '10.1.0.0/16',
      { host: 'multi.example', ports: [22, 2222] },
      '[2606:4700::1111]:443',
    ],
    ['evil.githubusercontent.com', { host: 'api.github.com', paths: ['/repos/acme/secret/**'] }, '10.1.9.0/24'],
  );
  const rows: [Target, 'allow' | 'deny' | 'inspect'][] = [
    [target('registry.npmjs.org', 443), 'allow'],
    [target('registry.npmjs.org', 80), 'allow'],
    [target('registry.npmjs.org', 8080), 'deny'],
    [target('REGISTRY.NPMJS.ORG.', 443), 'allow'],
    [target('npmjs.org', 443), 'deny'],
    [target('registry.npmjs.org.evil.com', 443), 'deny'],
    [target('raw.githubusercontent.com', 443), 'allow'],
    [target('a.b.githubusercontent.com', 443), 'allow'],
    [target('githubusercontent.com', 443), 'deny'],
    [target('evil.githubusercontent.com', 443), 'deny'],
    [target('evil.githubusercontent.com', 9999), 'deny'],
    [target('api.example.com', 8443), 'allow'],
    [target('api.example.com', 443), 'deny'],
    [target('api.github.com', 443), 'inspect'],
    [target('api.github.com', 443, 'GET', '/repos/acme/app/pulls'), 'allow'],
    [target('api.github.com', 443, 'POST', '/repos/acme/app/issues?x=1'), 'allow'],
    [target('api.github.com', 443, 'DELETE', '/repos/acme/app'), 'deny'],
    [target('api.github.com', 443, 'GET', '/repos/other/app'), 'deny'],
    [target('api.github.com', 443, 'GET', '/repos/acme/secret/x'), 'deny'],
    [target('api.github.com', 443, 'GET', '/repos/acme/../other/x'), 'deny'],
    [target('api.github.com', 443, 'GET', '/repos/acme/%2e%2e/other'), 'deny'],
    [target('api.github.com', 443, 'GET', '/repos/acme/a%2f..%2f..%2fother'), 'deny'],
    [target('api.github.com', 443, 'GET', '/repos/acme/%73ecret/x'), 'deny'],
    [target('93.184.216.34', 443), 'allow'],
    [target('1572395042', 443), 'allow'],
    [target('93.184.216.35', 443), 'deny'],
    [target('10.1.2.3', 80), 'allow'],
    [target('10.1.9.3', 80), 'deny'],
    [target('10.2.0.1', 80), 'deny'],
    [target('multi.example', 22), 'allow'],
    [target('multi.example', 443), 'deny'],
    [target('[2606:4700:0::1111]', 443), 'allow'],
    [target('2606:4700::1111', 80), 'deny'],
    [target('example.org', 443), 'deny'],
  ];
  for (const [t, want] of rows) assert.equal(m.decide(t).verdict, want, `${t.host}:${t.port} ${t.method ?? ''} ${t.path ?? ''}: ${m.decide(t).reason}`);
});

test('names do not match IP rules and IPs do not match name rules', () => {
  const m = matcher(['127.0.0.1', 'localhost']);
  assert.equal(m.decide(target('127.0.0.1', 80)).verdict, 'allow');
  assert.equal(m.decide(target('localhost', 80)).verdict, 'allow');
  const n = matcher(['localhost']);
  assert.equal(n.decide(target('127.0.0.1', 80)).verdict, 'deny');
  assert.equal(n.decide(target('2130706433', 80)).verdict, 'deny');
});

test('deny rules without ports deny every port; a deny rule with paths forces inspection', () => {
  const m = matcher(['a.example', { host: 'b.example', ports: [8080] }], ['b.example', { host: 'a.example', paths: ['/admin/**'] }]);
  assert.equal(m.decide(target('b.example', 8080)).verdict, 'deny');
  assert.equal(m.decide(target('a.example', 443)).verdict, 'inspect');
  assert.equal(m.decide(target('a.example', 443, 'GET', '/admin/x')).verdict, 'deny');
  assert.equal(m.decide(target('a.example', 443, 'GET', '/%61dmin/x')).verdict, 'deny');
  assert.equal(m.decide(target('a.example', 443, 'GET', '/public')).verdict, 'allow');
});

test('exemptions: only literal IP/CIDR allow rules open private addresses, per port', () => {
  const m = matcher(['127.0.0.1:8080', '10.0.0.0/8', 'localhost'], ['10.9.9.9']);
  assert.equal(m.exempts(parseIP('127.0.0.1')!, 8080), true);
  assert.equal(m.exempts(parseIP('127.0.0.1')!, 80), false);
  assert.equal(m.exempts(parseIP('10.3.4.5')!, 443), true);
  assert.equal(m.exempts(parseIP('::1')!, 8080), false);
  assert.equal(m.deniedAddress(parseIP('10.9.9.9')!, 1234), '10.9.9.9');
  // a CIDR broader than the refused range opens nothing in it
  const broad = matcher(['0.0.0.0/0', '::/0', '10.0.0.0/7', '169.254.169.254/32']);
  assert.equal(broad.exempts(parseIP('127.0.0.1')!, 443), false);
  assert.equal(broad.exempts(parseIP('10.0.0.1')!, 443), false);
  assert.equal(broad.exempts(parseIP('::1')!, 443), false);
  assert.equal(broad.exempts(parseIP('fd00:ec2::254')!, 443), false);
  assert.equal(broad.exempts(parseIP('169.254.169.254')!, 443), true);
});

test('normalizeTarget: case, trailing dot, IDN, alternate IPv4, ambiguity', () => {
  assert.deepEqual(normalizeTarget('ExAmple.COM.'), { ok: true, host: 'example.com' });
  assert.deepEqual(normalizeTarget('bücher.example'), { ok: true, host: 'xn--bcher-kva.example' });
  assert.equal((normalizeTarget('0x7f.1') as { host: string }).host, '127.0.0.1');
  assert.equal((normalizeTarget('[::ffff:127.0.0.1]') as { host: string }).host, '::ffff:7f00:1');
  // full-width digits normalise (IDNA) to an address: still recognised as one
  assert.equal((normalizeTarget('１２７.０.０.１') as { host: string }).host, '127.0.0.1');
  for (const bad of ['', 'a b', 'evil.com@good.com', 'good.com/x', 'a..b', '-a.com', 'foo.999', 'x\u0000y', 'host%00', '[::1', 'a_b.com']) {
    assert.equal(normalizeTarget(bad).ok, false, JSON.stringify(bad));
  }
});

test('splitHostPort is strict', () => {
  assert.deepEqual(splitHostPort('a.com:443'), { host: 'a.com', port: 443 });
  assert.deepEqual(splitHostPort('[::1]:80'), { host: '[::1]', port: 80 });
  assert.deepEqual(splitHostPort('a.com'), { host: 'a.com' });
  for (const bad of ['a.com:', 'a.com:0', 'a.com:65536', 'a.com:+1', '[::1]x', '::1:80', 'a.com:80:80']) assert.equal(splitHostPort(bad), undefined, bad);
});

test('canonicalPath refuses shapes a server could read differently', () => {
  assert.equal(canonicalPath('/a/%62/c?x=../'), '/a/b/c');
  assert.equal(canonicalPath('/a/%20b'), '/a/%20b');
  for (const bad of ['/a/../b', '/a/./b', '/a/..', '/a/%2e%2E/b', '/a%2fb', '/a%5cb', '/a\\b', '/a%00', '/a%zz', 'a/b']) assert.equal(canonicalPath(bad), undefined, bad);
});
