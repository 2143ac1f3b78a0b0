/**
 * Network policy matching, compiled once from `policy.network.allow` / `deny` into plain closures.
 *
 * - `example.com` matches that host only; `*.example.com` its subdomains, not the apex;
 * - a rule's ports are `host:port`, its `ports`, or by default 443 and 80;
 * - IP and CIDR rules match IP-literal targets (in any spelling: `127.1` is 127.0.0.1) and also
 *   act as the address guard's exemptions (see guard.ts) — only those rules can open a private
 *   address;
 * - `methods` and `paths` are checked when the request is visible (plain HTTP, TLS-terminated);
 *   for an opaque CONNECT tunnel a rule that restricts them gives `inspect` (allowed only when the
 *   tunnel is terminated), and a deny rule that restricts them also forces inspection;
 * - `deny` wins over `allow`; no rule → deny. Ambiguous input is denied by `normalizeTarget`.
 *
 * Example:
 * ```ts
 * const m = compileNetworkMatcher(policy.network);
 * m.decide({ host: 'api.github.com', port: 443, method: 'GET', path: '/repos/acme/app' });
 * // → { verdict: 'allow', rule: '{"host":"api.github.com",...}' }
 * ```
 */
import type { NetworkRule } from '../policy/compile.js';
import { normalizeHostName } from '../policy/host-pattern.js';
import { parseCidr, parseHostLiteral, cidrContains, makeIP, type Cidr, type IPAddr } from './ip.js';
import { refusedRange } from './guard.js';

/** What the proxy is asked to reach, already normalised. */
export interface Target {
  /** Canonical host: a lower-case punycode name, or an address's canonical text. */
  host: string;
  /** Set when the host is an IP literal. */
  ip?: IPAddr;
  port: number;
  /** Upper-case method, when visible. */
  method?: string;
  /** Path (no query), when visible. */
  path?: string;
}

export type Verdict = 'allow' | 'deny' | 'inspect';

export interface MatchDecision {
  verdict: Verdict;
  /** Why, in one line (used in X-Airlock-Deny and the audit event). */
  reason: string;
  /** The rule text that decided, if any. */
  rule?: string;
}

export interface NetworkMatcher {
  /** Decide on a target; without method/path, rules restricting them yield `inspect`. */
  decide(t: Target): MatchDecision;
  /** true when an allow rule names this literal address (or a CIDR inside its refused range) for `port`. */
  exempts(a: IPAddr, port: number): boolean;
  /** The text of a deny IP/CIDR rule matching this address and port, if any. */
  deniedAddress(a: IPAddr, port: number): string | undefined;
  /** true when there is at least one allow rule (otherwise no proxy is needed). */
  readonly hasRules: boolean;
}

interface CompiledRule {
  text: string;
  host: (t: Target) => boolean;
  cidr?: Cidr;
  ports: number[] | undefined;
  methods?: Set<string>;
  paths?: RegExp[];
}

const DEFAULT_PORTS = [443, 80];

function compileRule(r: NetworkRule): CompiledRule {
  const p = r.pattern;
  const ports = r.ports ?? (p.port !== undefined ? [p.port] : undefined);
  const base = { text: r.text, ports, methods: r.methods ? new Set(r.methods.map((m) => m.toUpperCase())) : undefined, paths: r.paths?.map((x) => x.re) };
  switch (p.kind) {
    case 'exact':
      return { ...base, host: (t) => !t.ip && t.host === p.host };
    case 'wildcard':
      return { ...base, host: (t) => !t.ip && t.host.endsWith(`.${p.suffix}`) };
    case 'ip':
    case 'cidr': {
      const cidr = parseCidr(p.kind === 'ip' ? p.address : `${p.address}/${p.prefix}`);
      if (!cidr) return { ...base, host: () => false };
      return { ...base, cidr, host: (t) => !!t.ip && cidrContains(cidr, t.ip) };
    }
  }
}

/** Allow rules without ports mean 443 and 80; deny rules without ports mean every port. */
function portOk(r: CompiledRule, port: number, isDeny = false): boolean {
  if (!r.ports) return isDeny || DEFAULT_PORTS.includes(port);
  return r.ports.includes(port);
}

/** Does the method/path part of a rule match? undefined = not visible (opaque tunnel). */
function detailMatch(r: CompiledRule, t: Target): boolean | undefined {
  if (!r.methods && !r.paths) return true;
  if (t.method === undefined || t.path === undefined) return undefined;
  if (r.methods && !r.methods.has(t.method)) return false;
  if (r.paths) {
    const p = canonicalPath(t.path);
    if (p === undefined) return false;
    if (!r.paths.some((re) => re.test(p))) return false;
  }
  return true;
}

/**
 * The path as an origin server would most likely read it, for matching `paths` globs: percent-
 * encoded unreserved characters decoded. Shapes a server could normalise differently from us —
 * dot segments (also encoded), encoded slashes or backslashes, NUL, backslashes — return
 * undefined: they match no allow glob and every deny glob (ambiguous → deny).
 */
export function canonicalPath(path: string): string | undefined {
  const q = path.indexOf('?');
  const raw = q >= 0 ? path.slice(0, q) : path;
  if (!raw.startsWith('/')) return undefined;
  if (/%(2f|5c|00)/i.test(raw) || raw.includes('\\')) return undefined;
  if (/%(?![0-9a-fA-F]{2})/.test(raw)) return undefined;
  const decoded = raw.replace(/%([0-9a-fA-F]{2})/g, (m, h: string) => {
    const c = String.fromCharCode(parseInt(h, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : m.toUpperCase();
  });
  if (decoded.split('/').some((seg) => seg === '.' || seg === '..')) return undefined;
  return decoded;
}

export function compileNetworkMatcher(network: { allow: NetworkRule[]; deny: NetworkRule[] }): NetworkMatcher {
  const allow = network.allow.map(compileRule);
  const deny = network.deny.map(compileRule);
  const where = (t: Target) => `${t.ip?.family === 6 ? `[${t.host}]` : t.host}:${t.port}`;

  return {
    hasRules: allow.length > 0,
    decide(t) {
      // Deny rules first: deny wins.
      for (const r of deny) {
        if (!r.host(t) || !portOk(r, t.port, true)) continue;
        const d = denyDetailMatch(r, t);
        if (d === true) return { verdict: 'deny', reason: `${where(t)} matches network.deny rule ${r.text}`, rule: r.text };
        if (d === undefined) return inspectOrDeny(t, `network.deny rule ${r.text} restricts methods/paths`, r.text);
      }
      let inspect: CompiledRule | undefined;
      let detailMiss: CompiledRule | undefined;
      let hostHit = false;
      for (const r of allow) {
        if (!r.host(t)) continue;
        hostHit = true;
        if (!portOk(r, t.port)) continue;
        const d = detailMatch(r, t);
        if (d === true) return { verdict: 'allow', reason: `allowed by network.allow rule ${r.text}`, rule: r.text };
        if (d === undefined) inspect ??= r;
        else detailMiss ??= r;
      }
      if (inspect) return inspectOrDeny(t, `network.allow rule ${inspect.text} restricts methods/paths`, inspect.text);
      if (detailMiss) {
        const p = t.path !== undefined && canonicalPath(t.path) === undefined ? ' (ambiguous path)' : '';
        return { verdict: 'deny', reason: `${t.method} ${t.path}${p} on ${where(t)} is outside the methods/paths of network.allow rule ${detailMiss.text}`, rule: detailMiss.text };
      }
      if (hostHit) return { verdict: 'deny', reason: `port ${t.port} is not allowed for ${t.host} (rules allow other ports)` };
      return { verdict: 'deny', reason: `${where(t)} matches no network.allow rule` };
    },
    exempts(a, port) {
      const full = a.family === 4 ? 32 : 128;
      // The literal address, or a CIDR that lies inside the refused range holding it (so that
      // `0.0.0.0/0` does not open loopback or the metadata address). Embedded forms (NAT64, 6to4,
      // Teredo) have no listed range of their own: only the literal address opens them.
      const range = refusedRange(a);
      return allow.some(
        (r) =>
          r.cidr !== undefined &&
          portOk(r, port) &&
          cidrContains(r.cidr, a) &&
          (r.cidr.prefix === full || (range !== undefined && r.cidr.family === range.family && r.cidr.prefix >= range.prefix && cidrContains(range, makeIP(r.cidr.family, r.cidr.bytes)))),
      );
    },
    deniedAddress(a, port) {
      return deny.find((r) => r.cidr !== undefined && portOk(r, port, true) && cidrContains(r.cidr, a) && !r.methods && !r.paths)?.text;
    },
  };
}

/** A deny rule's method/path part: an ambiguous path counts as matching (deny). */
function denyDetailMatch(r: CompiledRule, t: Target): boolean | undefined {
  if (!r.methods && !r.paths) return true;
  if (t.method === undefined || t.path === undefined) return undefined;
  const methodHit = !r.methods || r.methods.has(t.method);
  if (!methodHit) return false;
  if (!r.paths) return true;
  const p = canonicalPath(t.path);
  return p === undefined || r.paths.some((re) => re.test(p));
}

function inspectOrDeny(t: Target, why: string, rule: string): MatchDecision {
  if (t.method === undefined) return { verdict: 'inspect', reason: `${why}: the connection must be TLS-terminated to check them`, rule };
  return { verdict: 'deny', reason: why, rule };
}

export type NormalizedHost = { ok: true; host: string; ip?: IPAddr } | { ok: false; why: string };

/**
 * Normalises a host as received (without port; `[v6]` brackets allowed): IP literals in any
 * spelling become their canonical address; names are lower-cased, lose a trailing dot and are
 * converted to punycode. Anything else is ambiguous and refused.
 */
export function normalizeTarget(raw: string): NormalizedHost {
  if (!raw) return { ok: false, why: 'empty host' };
  if (/[\s@/\\?#\x00-\x1f\x7f]/.test(raw)) return { ok: false, why: `host "${printable(raw)}" contains characters a host cannot have` };
  const lit = parseHostLiteral(raw);
  if (lit.kind === 'ip') return { ok: true, host: lit.ip.text, ip: lit.ip };
  if (lit.kind === 'ambiguous') return { ok: false, why: `host "${printable(raw)}" is ambiguous: ${lit.why}` };
  const name = normalizeHostName(raw);
  if (!name) return { ok: false, why: `host "${printable(raw)}" is not a valid host name` };
  // domainToASCII may itself turn odd spellings (full-width digits, ...) into an address.
  const again = parseHostLiteral(name);
  if (again.kind === 'ip') return { ok: true, host: again.ip.text, ip: again.ip };
  if (again.kind === 'ambiguous') return { ok: false, why: `host "${printable(raw)}" is ambiguous: ${again.why}` };
  return { ok: true, host: name };
}

/** Splits `host:port` / `[v6]:port` / `host` (authority without userinfo). */
export function splitHostPort(authority: string): { host: string; port?: number } | undefined {
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return undefined;
    host = authority.slice(0, end + 1);
    const rest = authority.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const c = authority.lastIndexOf(':');
    if (c >= 0) {
      host = authority.slice(0, c);
      portText = authority.slice(c + 1);
      if (host.includes(':')) return undefined;
    } else host = authority;
  }
  if (portText === undefined) return { host };
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  return { host, port };
}

export function printable(s: string): string {
  const t = s.length > 80 ? `${s.slice(0, 80)}...` : s;
  return t.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
