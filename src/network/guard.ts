/**
 * The address guard: the proxy decides on the address it dials, not on the name it was given.
 *
 * A host name is resolved once (`dns.lookup`, all addresses); every address is checked against
 * the ranges below; if any one is refused the request is refused (a name that resolves to both a
 * public and a private address is a rebinding shape). The proxy then dials exactly a checked
 * address, so a second resolution cannot change the answer.
 *
 * Refused (unless an allow rule names that literal address or a CIDR containing it, for the port):
 * loopback, RFC 1918, CGNAT, link-local (169.254.0.0/16 — cloud metadata — and fe80::/10),
 * fd00:ec2::254 (inside ULA fc00::/7), multicast, unspecified, 0.0.0.0/8, broadcast and reserved,
 * documentation and benchmarking ranges, IPv4-mapped / IPv4-compatible / SIIT-translated IPv6, and
 * NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32) addresses that embed a refused
 * IPv4 address.
 *
 * Example: `classifyAddress(parseIP('169.254.169.254')!)` → `'link-local (cloud metadata)'`.
 */
import { lookup } from 'node:dns/promises';
import { inPrefix, makeIP, parseCidr, type Cidr, type IPAddr } from './ip.js';

/** Resolves a host name to every address it has. Injected in tests (plain address strings are accepted too). */
export type Resolver = (host: string) => Promise<({ address: string; family?: number } | string)[] | string>;

export const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

const V4: [string, string][] = [
  ['0.0.0.0/8', 'unspecified ("this network")'],
  ['10.0.0.0/8', 'private (RFC 1918)'],
  ['100.64.0.0/10', 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata)'],
  ['172.16.0.0/12', 'private (RFC 1918)'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation (TEST-NET-1)'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'private (RFC 1918)'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation (TEST-NET-2)'],
  ['203.0.113.0/24', 'documentation (TEST-NET-3)'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved / broadcast'],
];

const V6: [string, string][] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::ffff:0:0/96', 'IPv4-mapped IPv6'],
  ['::ffff:0:0:0/96', 'IPv4-translated IPv6 (SIIT)'],
  ['::/96', 'IPv4-compatible IPv6'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['100::/64', 'discard-only'],
  ['2001:2::/48', 'benchmarking'],
  ['2001:10::/28', 'ORCHID'],
  ['2001:20::/28', 'ORCHIDv2'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['fc00::/7', 'unique local (ULA, includes fd00:ec2::254 metadata)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local (deprecated)'],
  ['ff00::/8', 'multicast'],
];

const RANGES: { cidr: Cidr; why: string }[] = [...V4, ...V6].map(([c, why]) => ({ cidr: parseCidr(c)!, why }));
const NAT64 = parseCidr('64:ff9b::/96')!;
const SIX_TO_FOUR = parseCidr('2002::/16')!;
const TEREDO = parseCidr('2001::/32')!;

/**
 * The refused range an address falls in (the most specific listed one), if any. A CIDR allow rule
 * only opens an address when the rule lies inside this range: `10.0.0.0/8` opens 10.1.2.3, but
 * `0.0.0.0/0` ("any IPv4") opens no private, loopback or metadata address.
 */
export function refusedRange(a: IPAddr): Cidr | undefined {
  for (const r of RANGES) if (r.cidr.family === a.family && inPrefix(a.bytes, r.cidr.bytes, r.cidr.prefix)) return r.cidr;
  return undefined;
}

/**
 * Why an address must not be dialled, or undefined when it is an ordinary public address.
 * Embedded IPv4 addresses (NAT64, 6to4, Teredo) are checked as the IPv4 address they carry.
 */
export function classifyAddress(a: IPAddr): string | undefined {
  for (const r of RANGES) if (r.cidr.family === a.family && inPrefix(a.bytes, r.cidr.bytes, r.cidr.prefix)) return r.why;
  if (a.family !== 6) return undefined;
  const embedded = (bytes: Uint8Array, label: string): string | undefined => {
    const v4 = makeIP(4, bytes);
    const why = classifyAddress(v4);
    return why ? `${label} of ${v4.text}: ${why}` : undefined;
  };
  if (inPrefix(a.bytes, NAT64.bytes, NAT64.prefix)) return embedded(a.bytes.slice(12, 16), 'NAT64 form');
  if (inPrefix(a.bytes, SIX_TO_FOUR.bytes, SIX_TO_FOUR.prefix)) return embedded(a.bytes.slice(2, 6), '6to4 form');
  if (inPrefix(a.bytes, TEREDO.bytes, TEREDO.prefix)) {
    const server = embedded(a.bytes.slice(4, 8), 'Teredo server');
    const client = embedded(Uint8Array.from(a.bytes.slice(12, 16), (x) => x ^ 0xff), 'Teredo client');
    return server ?? client;
  }
  return undefined;
}

/** The outcome of resolving and checking one target. */
export type GuardResult =
  | { ok: true; addresses: IPAddr[] }
  | { ok: false; kind: 'blocked'; address: string; why: string }
  | { ok: false; kind: 'resolve'; why: string };

/**
 * Resolves `host` (unless it is already an address) and checks every address. `exempt(addr)` is
 * true when the policy names that literal address (or a CIDR containing it) for this port;
 * `denied(addr)` names a deny rule matching the address.
 */
export async function resolveAndCheck(
  host: string,
  literal: IPAddr | undefined,
  resolver: Resolver,
  exempt: (a: IPAddr) => boolean,
  denied: (a: IPAddr) => string | undefined,
): Promise<GuardResult> {
  let addrs: IPAddr[];
  if (literal) addrs = [literal];
  else {
    let raw: { address: string }[];
    try {
      const got = await resolver(host);
      raw = (Array.isArray(got) ? got : [got]).map((r) => (typeof r === 'string' ? { address: r } : r));
    } catch (err) {
      return { ok: false, kind: 'resolve', why: `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    addrs = [];
    for (const r of raw) {
      const c = parseCidr(r.address);
      if (!c || c.prefix !== (c.family === 4 ? 32 : 128)) return { ok: false, kind: 'blocked', address: r.address, why: 'resolver returned an unparsable address' };
      addrs.push(makeIP(c.family, c.bytes));
    }
    if (addrs.length === 0) return { ok: false, kind: 'resolve', why: `cannot resolve ${host}: no addresses` };
  }
  for (const a of addrs) {
    const rule = denied(a);
    if (rule) return { ok: false, kind: 'blocked', address: a.text, why: `matches network.deny rule ${rule}` };
    const why = classifyAddress(a);
    if (why && !exempt(a)) return { ok: false, kind: 'blocked', address: a.text, why };
  }
  return { ok: true, addresses: addrs };
}
