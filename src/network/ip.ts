/**
 * IP address parsing for the egress proxy. Addresses are byte arrays (4 or 16 bytes) so that
 * range checks are exact and independent of how the address was written.
 *
 * IPv4 literals are parsed the way `inet_aton(3)` (and the WHATWG URL parser) read them, because
 * that is how a client library or an upstream server would read them: `2130706433`, `0x7f000001`,
 * `0177.0.0.1`, `127.1` and `127.0.0.1` are all the same address. A host whose last label is
 * numeric but is not a valid IPv4 literal is *ambiguous* and must be refused by the caller.
 *
 * Example: `parseHostLiteral('0x7f.1')` → `{ family: 4, bytes: [127,0,0,1], text: '127.0.0.1' }`.
 */
import { isIP } from 'node:net';

export interface IPAddr {
  family: 4 | 6;
  bytes: Uint8Array;
  /** Canonical text: dotted decimal, or RFC 5952 compressed lower-case IPv6 (no brackets). */
  text: string;
}

/** Parses one inet_aton part: `0x..` hex, `0..` octal, else decimal. */
function parseV4Part(p: string): number | undefined {
  if (p === '') return undefined;
  let n: number;
  if (/^0[xX][0-9a-fA-F]*$/.test(p)) {
    const digits = p.slice(2);
    n = digits === '' ? 0 : parseInt(digits, 16);
    if (digits.length > 8 && !/^0*[0-9a-fA-F]{1,8}$/.test(digits)) return undefined;
  } else if (/^0[0-7]*$/.test(p)) {
    n = p.length === 1 ? 0 : parseInt(p.slice(1), 8);
  } else if (/^[1-9][0-9]*$/.test(p)) {
    n = Number(p);
  } else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * IPv4 in any form inet_aton accepts (1 to 4 parts; the last part fills the remaining bytes).
 * Returns undefined when the text is not such a literal.
 */
export function parseIPv4Loose(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    const n = parseV4Part(p);
    if (n === undefined) return undefined;
    nums.push(n);
  }
  const last = nums.pop()!;
  for (const n of nums) if (n > 255) return undefined;
  const lastBytes = 4 - nums.length;
  if (last >= 2 ** (8 * lastBytes)) return undefined;
  const out = new Uint8Array(4);
  nums.forEach((n, i) => (out[i] = n));
  for (let i = 0; i < lastBytes; i++) out[3 - i] = Math.floor(last / 2 ** (8 * i)) % 256;
  return out;
}

/** IPv6 text (no brackets, no zone id; may end in dotted IPv4) → 16 bytes. */
export function parseIPv6(s: string): Uint8Array | undefined {
  if (isIP(s) !== 6 || s.includes('%')) return undefined;
  let head = s;
  let tailV4: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4Strict(s.slice(lastColon + 1));
    if (!tailV4) return undefined;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (x: string) => (x === '' ? [] : x.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - left.length - right.length;
  if ((halves.length === 2 && fill < 1) || (halves.length === 1 && fill !== 0)) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...right];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  if (tailV4) out.set(tailV4, 12);
  return out;
}

/** Strict dotted decimal a.b.c.d (no leading zeros), as written in policy files. */
export function parseIPv4Strict(s: string): Uint8Array | undefined {
  if (isIP(s) !== 4) return undefined;
  return Uint8Array.from(s.split('.').map(Number));
}

export function formatIP(family: 4 | 6, b: Uint8Array): string {
  if (family === 4) return Array.from(b).join('.');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function makeIP(family: 4 | 6, bytes: Uint8Array): IPAddr {
  return { family, bytes, text: formatIP(family, bytes) };
}

/** Parses an address as written in a policy (`10.0.0.1`, `fd00::1`). */
export function parseIP(s: string): IPAddr | undefined {
  const v4 = parseIPv4Strict(s);
  if (v4) return makeIP(4, v4);
  const v6 = parseIPv6(s);
  return v6 ? makeIP(6, v6) : undefined;
}

export type HostLiteral = { kind: 'ip'; ip: IPAddr } | { kind: 'name' } | { kind: 'ambiguous'; why: string };

/**
 * Classifies a host as it appeared in a request (URL authority, CONNECT target or Host header,
 * without the port): an IP literal in any form (`[v6]`, bare v6, any inet_aton IPv4 form), a name,
 * or ambiguous (numeric-looking but not a valid address, zone ids, percent signs).
 */
export function parseHostLiteral(raw: string): HostLiteral {
  let h = raw;
  if (h.startsWith('[') && h.endsWith(']')) {
    const v6 = parseIPv6(h.slice(1, -1));
    return v6 ? { kind: 'ip', ip: makeIP(6, v6) } : { kind: 'ambiguous', why: 'not a valid IPv6 literal' };
  }
  if (h.includes('%')) return { kind: 'ambiguous', why: 'percent sign or zone id in host' };
  if (h.includes(':')) {
    const v6 = parseIPv6(h);
    return v6 ? { kind: 'ip', ip: makeIP(6, v6) } : { kind: 'ambiguous', why: 'colon in host name' };
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  const labels = h.split('.');
  const last = labels[labels.length - 1] ?? '';
  // WHATWG URL rule: a host whose last label is a number is an IPv4 address or invalid.
  if (/^(0[xX][0-9a-fA-F]*|[0-9]+)$/.test(last)) {
    const v4 = parseIPv4Loose(h);
    return v4 ? { kind: 'ip', ip: makeIP(4, v4) } : { kind: 'ambiguous', why: 'numeric host that is not a valid IPv4 address' };
  }
  return { kind: 'name' };
}

/** true when `addr` lies in `net/prefix` (same family). */
export function inPrefix(addr: Uint8Array, net: Uint8Array, prefix: number): boolean {
  if (addr.length !== net.length) return false;
  let bits = prefix;
  for (let i = 0; i < addr.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

export interface Cidr {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
  text: string;
}

export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const ip = m ? parseIP(m[1]!) : parseIP(text);
  if (!ip) return undefined;
  const prefix = m ? Number(m[2]) : ip.family === 4 ? 32 : 128;
  if (prefix > (ip.family === 4 ? 32 : 128)) return undefined;
  return { family: ip.family, bytes: ip.bytes, prefix, text };
}

export function cidrContains(c: Cidr, a: IPAddr): boolean {
  return c.family === a.family && inPrefix(a.bytes, c.bytes, c.prefix);
}
