/**
 * Host patterns of the network policy, parsed once:
 * - `example.com` — that host only;  `*.example.com` — its subdomains (not the apex);
 * - `host:port` — that port only (otherwise the rule's `ports`, default 443 and 80);
 * - IP literals (`93.184.216.34`, `[2001:db8::1]:443`) and CIDRs (`10.0.0.0/8`, `fd00::/8`).
 * Host names are normalised (lower case, no trailing dot, IDN → punycode). Anything ambiguous
 * (empty labels, `*` in the middle, a port out of range, userinfo, paths) is rejected.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

export type HostPattern =
  | { kind: 'exact'; host: string; port?: number; text: string }
  | { kind: 'wildcard'; suffix: string; port?: number; text: string }
  | { kind: 'ip'; address: string; family: 4 | 6; port?: number; text: string }
  | { kind: 'cidr'; address: string; prefix: number; family: 4 | 6; port?: number; text: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Normalises a host name: lower case, trailing dot removed, IDN to punycode. Returns undefined if invalid. */
export function normalizeHostName(name: string): string | undefined {
  let h = name.trim();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (!h || h.length > 253) return undefined;
  const ascii = domainToASCII(h);
  if (!ascii) return undefined;
  const labels = ascii.split('.');
  if (!labels.every((l) => LABEL.test(l) || /^xn--[a-z0-9-]+$/.test(l))) return undefined;
  return ascii;
}

export function parseHostPattern(text: string): HostPattern | string {
  const bad = (why: string) => `"${text}" is not a valid host pattern: ${why}`;
  if (typeof text !== 'string' || !text.trim()) return bad('empty');
  const s = text.trim();
  if (/[/@?#\s]/.test(s) && !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(s)) return bad('give a host name, not a URL (no scheme, path, user or spaces)');

  // CIDR
  const cidr = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(s);
  if (cidr) {
    const family = isIP(cidr[1]!);
    const prefix = Number(cidr[2]);
    if (!family) return bad('the address of a CIDR must be an IP literal');
    if (prefix > (family === 4 ? 32 : 128)) return bad(`prefix /${prefix} is too long`);
    return { kind: 'cidr', address: cidr[1]!.toLowerCase(), prefix, family: family as 4 | 6, text: s };
  }
  // [v6] or [v6]:port
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    if (isIP(v6[1]!) !== 6) return bad('not an IPv6 address inside brackets');
    const port = parsePort(v6[2]);
    if (port === null) return bad('port must be 1-65535');
    return { kind: 'ip', address: v6[1]!.toLowerCase(), family: 6, ...(port ? { port } : {}), text: s };
  }
  if (isIP(s) === 6) return { kind: 'ip', address: s.toLowerCase(), family: 6, text: s };

  const colon = s.lastIndexOf(':');
  const hostPart = colon >= 0 ? s.slice(0, colon) : s;
  const port = colon >= 0 ? parsePort(s.slice(colon + 1)) : undefined;
  if (port === null) return bad('port must be 1-65535');
  if (hostPart.includes(':')) return bad('an IPv6 address with a port must be written [addr]:port');
  const portField = port ? { port } : {};
  if (isIP(hostPart) === 4) return { kind: 'ip', address: hostPart, family: 4, ...portField, text: s };
  if (/^[0-9.]+$/.test(hostPart) || /^0x[0-9a-f]+$/i.test(hostPart)) return bad('write IPv4 addresses in dotted decimal (a.b.c.d)');
  if (hostPart === '*') return bad('a bare "*" would allow everything; list the hosts');
  if (hostPart.startsWith('*.')) {
    const suffix = normalizeHostName(hostPart.slice(2));
    if (!suffix) return bad('the part after "*." is not a host name');
    if (!suffix.includes('.')) return bad(`"*.${suffix}" is too broad (a whole top-level domain)`);
    return { kind: 'wildcard', suffix, ...portField, text: s };
  }
  if (hostPart.includes('*')) return bad('"*" is only allowed as the whole first label, as in *.example.com');
  const host = normalizeHostName(hostPart);
  if (!host) return bad('not a host name');
  return { kind: 'exact', host, ...portField, text: s };
}

function parsePort(p: string | undefined): number | undefined | null {
  if (p === undefined) return undefined;
  if (!/^\d{1,5}$/.test(p)) return null;
  const n = Number(p);
  return n >= 1 && n <= 65535 ? n : null;
}
