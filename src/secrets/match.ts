/**
 * Host matching for injection rules: does `host:port` (what the proxy dials) fall under a policy
 * host pattern? A pattern without a port matches any port (the network policy decides which
 * ports are reachable at all); IPs are compared as bytes, so `::1`, `[::1]` and `0:0::1` agree.
 */
import { isIP } from 'node:net';
import type { HostPattern } from '../policy/index.js';
import { ipBytes } from './x509.js';

/** Lower case, no brackets around IPv6, no trailing dot. */
export function canonicalHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function sameIp(a: string, b: string): boolean {
  const fa = isIP(a);
  const fb = isIP(b);
  if (!fa || !fb) return false;
  return ipBytes(a).equals(ipBytes(b)) || (fa === 4 && fb === 6 && ipBytes(b).equals(mapped(a))) || (fa === 6 && fb === 4 && ipBytes(a).equals(mapped(b)));
}

function mapped(v4: string): Buffer {
  return Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), ipBytes(v4)]);
}

function inCidr(ip: string, net: string, prefix: number): boolean {
  if (isIP(ip) !== isIP(net)) return false;
  const a = ipBytes(ip);
  const b = ipBytes(net);
  for (let bit = 0; bit < prefix; bit++) {
    const m = 0x80 >> bit % 8;
    if ((a[bit >> 3]! & m) !== (b[bit >> 3]! & m)) return false;
  }
  return true;
}

export function hostMatches(p: HostPattern, hostIn: string, port: number): boolean {
  if (p.port !== undefined && p.port !== port) return false;
  const host = canonicalHost(hostIn);
  switch (p.kind) {
    case 'exact':
      return host === p.host;
    case 'wildcard':
      return host.endsWith(`.${p.suffix}`) && !isIP(host);
    case 'ip':
      return sameIp(host, p.address);
    case 'cidr':
      return inCidr(host, p.address, p.prefix);
  }
}

/** Parses a Host header (`name`, `name:port`, `[v6]:port`) into canonical host and port. */
export function parseHostHeader(value: string, defaultPort: number): { host: string; port: number } | undefined {
  const v = value.trim();
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (!(port >= 1 && port <= 65535)) return undefined;
  return { host: canonicalHost(m[1]!), port };
}

/** true when the two host names denote the same endpoint name (IPs compared as bytes). */
export function sameHost(a: string, b: string): boolean {
  const x = canonicalHost(a);
  const y = canonicalHost(b);
  return x === y || sameIp(x, y);
}
