/**
 * The secrets broker: the agent holds placeholders, the proxy carries real values.
 *
 * Security model (what this module guarantees, and what it does not):
 * - Real values are read on the host at session start (`sources.ts`, or minted by
 *   `github-app.ts`) and live only in this object's memory. The sandbox environment receives
 *   `airlock_ph_<tag>_<random>` placeholders (128 random bits, unique per session).
 * - A real value is written into a request only when (a) the request travels inside TLS the proxy
 *   terminated, (b) the CONNECT target matches the secret's `inject.host`, (c) the client's SNI
 *   equals the CONNECT target (checked during the handshake in `terminate`), and (d) the inner
 *   `Host` header names the same host and port. Upstream, the proxy re-encrypts and verifies the
 *   real server (system store + `network.upstreamCA`).
 * - A placeholder seen anywhere else — another host, the URL (path or query), plain HTTP — is
 *   refused (403) and recorded as `secret`/`exfiltration`. Expired or revoked placeholders are
 *   refused as `secret`/`refuse` with the reason. Every injection is recorded as `secret`/`use`
 *   with the secret's name and the host — never the value.
 * - Not seen: bodies, and whatever travels in opaque CONNECT tunnels to hosts without injection or
 *   method/path rules. A placeholder leaked there is worthless: it maps to a value only inside this
 *   broker, only toward the declared host, only until TTL or session end.
 * - The session CA private key is a `KeyObject` in memory; only the public certificate leaves.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { rootCertificates, TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { AuditSink } from '../audit/types.js';
import type { InterceptDecision, Interceptor, RequestView, TerminatedForward } from '../network/interceptor.js';
import type { Policy, SecretSpec } from '../policy/index.js';
import type { MountSpec } from '../sandbox/types.js';
import { AirlockError } from '../util/errors.js';
import { mintInstallationToken, revokeInstallationToken } from './github-app.js';
import { canonicalHost, hostMatches, parseHostHeader, sameHost } from './match.js';
import { scrubResponse } from './scrub.js';
import { describeSource, readSecretSource } from './sources.js';
import { createSessionCA, type SessionCA } from './x509.js';

/** Every placeholder starts with this; anything carrying it is inspected. */
export const PLACEHOLDER_PREFIX = 'airlock_ph_';
const PLACEHOLDER_RE = /airlock_ph_[A-Za-z0-9_]*/gi;
const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

export interface SecretBrokerOptions {
  policy: Policy;
  sessionId: string;
  audit: AuditSink;
  /**
   * Extra PEM CA certificates trusted for upstream connections made by the broker itself
   * (minting) and offered to the proxy in `upstreamTrust`. Default: the file named by
   * `policy.network.upstreamCA`, if any.
   */
  upstreamCA?: string | string[];
  /** Environment the `env:` sources read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Called with every real value when it is acquired (start, renewal), e.g. to register it with the
   * audit log's redaction (`AuditLog.redact(value, name)`) as a second line of defence.
   */
  onValue?: (name: string, value: string) => void;
}

export interface SandboxCaFiles {
  /** Bind mounts (read-only) that make the files visible inside the sandbox. */
  mounts: MountSpec[];
  /** Variables pointing TLS stacks inside the sandbox at the files. */
  env: Record<string, string>;
  /** Host paths of the merged bundle (system store + session CA) and of the session CA alone. */
  bundlePath: string;
  caPath: string;
}

export interface SecretBroker {
  /** NAME → placeholder, for the sandbox environment. */
  readonly env: Record<string, string>;
  readonly interceptor: Interceptor;
  /** The session CA certificate (public). */
  readonly caCertPem: string;
  /** CA certificates the proxy should trust upstream: the system store plus `network.upstreamCA`. */
  readonly upstreamTrust: string[];
  /**
   * Writes `ca-bundle.pem` (system store + session CA) and `session-ca.pem` into `dir` (created if
   * missing) and returns the mounts and environment for the sandbox. The files appear at
   * `sandboxDir` inside (default: the same path as on the host).
   */
  sandboxCaFiles(dir: string, opts?: { sandboxDir?: string }): SandboxCaFiles;
  /** Names of the secrets the broker holds. */
  readonly names: string[];
  /** Names of the secrets whose real value occurs in `text` (for fail-closed checks; never returns values). */
  secretsIn(text: string): string[];
  /** Revokes everything: placeholders map to nothing, minted tokens are revoked, the CA key is dropped. */
  close(): Promise<void>;
}

type State = 'active' | 'expired' | 'revoked';

interface Entry {
  spec: SecretSpec;
  placeholder: string;
  value: string | undefined;
  state: State;
  expiresAt?: number;
  /** For minted tokens: what to revoke at the end. */
  minted?: string[];
  timers: NodeJS.Timeout[];
}

interface Hit {
  token: string;
  entry?: Entry;
  where: 'url' | 'header';
  header?: string;
}

function loadTrust(policy: Policy, extra: string | string[] | undefined): { extra: string[]; all: string[] } {
  let extraCerts: string[] = [];
  if (extra !== undefined) extraCerts = Array.isArray(extra) ? extra : [extra];
  else if (policy.network.upstreamCA) {
    try {
      extraCerts = [readFileSync(policy.network.upstreamCA, 'utf8')];
    } catch (e) {
      throw new AirlockError('secret-upstream-ca', `network.upstreamCA: cannot read ${policy.network.upstreamCA} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'give a PEM file with the CA certificates to trust upstream', 1);
    }
  }
  let system: string[];
  try {
    system = [readFileSync(SYSTEM_BUNDLE, 'utf8')];
  } catch {
    system = [...rootCertificates];
  }
  return { extra: extraCerts, all: [...system, ...extraCerts] };
}

function formatValue(format: string | undefined, value: string): string {
  if (format === 'basic') return `Basic ${Buffer.from(value).toString('base64')}`;
  return (format ?? '{}').split('{}').join(value);
}

/** Decodes `Basic xxx` credentials (for scanning and replacing inside them); undefined otherwise. */
function decodeBasic(v: string): string | undefined {
  const m = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(v);
  if (!m) return undefined;
  try {
    return Buffer.from(m[1]!, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

export async function startSecretBroker(opts: SecretBrokerOptions): Promise<SecretBroker> {
  const { policy, sessionId, audit } = opts;
  const trust = loadTrust(policy, opts.upstreamCA);
  const mintCa = trust.extra.length ? trust.all : undefined;
  const tag = (/([A-Za-z0-9]+)$/.exec(sessionId)?.[1] ?? 'session').slice(-8).toLowerCase();
  const emit: AuditSink['emit'] = (e) => {
    try {
      audit.emit(e);
    } catch {
      /* the sink must not throw; never let it break a decision */
    }
  };

  // 1. Read every value (in parallel). Any failure: revoke what was minted, refuse to start.
  const entries: Entry[] = opts.policy.secrets.map((spec) => ({
    spec,
    placeholder: `${PLACEHOLDER_PREFIX}${tag}_${randomBytes(16).toString('hex')}`,
    value: undefined,
    state: 'active' as State,
    timers: [],
  }));
  const acquire = async (e: Entry): Promise<{ value: string; expiresAt?: number }> => {
    const spec = e.spec;
    const ttlEnd = spec.ttlMs !== undefined ? Date.now() + spec.ttlMs : undefined;
    if (spec.mint) {
      const key = await readSecretSource(`${spec.name}.mint.privateKey`, spec.mint.privateKey, { env: opts.env, allowMultiline: true });
      const t = await mintInstallationToken(spec.name, spec.mint, key, mintCa);
      (e.minted ??= []).push(t.token);
      emit({ kind: 'secret', action: 'mint', decision: 'info', subject: spec.name, detail: { secret: spec.name, provider: 'github-app', appId: spec.mint.appId, installationId: spec.mint.installationId, repositories: spec.mint.repositories ?? null, permissions: spec.mint.permissions ?? null } });
      const exp = t.expiresAtMs !== undefined ? t.expiresAtMs - 60_000 : undefined;
      const expiresAt = ttlEnd === undefined ? exp : exp === undefined ? ttlEnd : Math.min(ttlEnd, exp);
      return { value: t.token, expiresAt };
    }
    if (!spec.source) throw new AirlockError('secret-source', `secrets.${spec.name}: neither "from" nor "mint" is given`, 'add `from: env:NAME` (or file:, cmd:) or a `mint:` block', 1);
    const value = await readSecretSource(spec.name, spec.source, { env: opts.env });
    return { value, expiresAt: ttlEnd };
  };
  const noteValue = (name: string, value: string) => {
    try {
      opts.onValue?.(name, value);
    } catch {
      /* best effort: the broker itself never writes values anywhere */
    }
  };
  const settled = await Promise.allSettled(
    entries.map(async (e) => {
      const r = await acquire(e);
      noteValue(e.spec.name, r.value);
      return Object.assign(e, r);
    }),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(entries.flatMap((e) => (e.minted ?? []).map((tok) => revokeInstallationToken(e.spec.mint!, tok, mintCa))));
    const err = failed.reason;
    if (err instanceof AirlockError) throw err;
    throw new AirlockError('secret-source', `secrets: ${(err as Error)?.message ?? String(err)}`, undefined, 1);
  }
  // Placeholders must never collide with a value (they cannot, but be certain).
  for (const e of entries) if (entries.some((o) => o.value !== undefined && o.value.includes(e.placeholder))) throw new AirlockError('secret-internal', 'secrets: placeholder collision', 'retry', 1);

  const byPlaceholder = new Map(entries.map((e) => [e.placeholder.toLowerCase(), e]));
  let closed = false;

  // 2. Expiry and renewal timers.
  const schedule = (e: Entry) => {
    for (const t of e.timers) clearTimeout(t);
    e.timers = [];
    if (e.expiresAt === undefined || closed) return;
    const left = Math.max(0, e.expiresAt - Date.now());
    const renewable = e.spec.renew && (e.spec.mint !== undefined || (e.spec.source !== undefined && e.spec.source.kind !== 'env'));
    if (renewable) {
      const renewAt = Math.max(0, left - Math.min(left * 0.25, 60_000)); // renew in the last quarter (≤ 1 min before expiry)
      const t = setTimeout(() => void renew(e), renewAt);
      t.unref();
      e.timers.push(t);
    }
    const t = setTimeout(() => {
      if (e.state !== 'active' || (e.expiresAt !== undefined && e.expiresAt > Date.now() + 5)) return;
      e.state = 'expired';
      e.value = undefined;
      emit({ kind: 'secret', action: 'expire', decision: 'info', subject: e.spec.name, detail: { secret: e.spec.name } });
    }, left);
    t.unref();
    e.timers.push(t);
  };
  const renew = async (e: Entry) => {
    if (closed || e.state === 'revoked') return;
    try {
      const r = await acquire(e);
      noteValue(e.spec.name, r.value);
      if (closed) return;
      e.value = r.value;
      e.expiresAt = r.expiresAt;
      e.state = 'active';
      emit({ kind: 'secret', action: 'renew', decision: 'allow', subject: e.spec.name, detail: { secret: e.spec.name, ...(e.expiresAt ? { expiresAt: new Date(e.expiresAt).toISOString() } : {}) } });
      schedule(e);
    } catch (err) {
      const msg = err instanceof AirlockError ? err.message : 'renewal failed';
      emit({ kind: 'secret', action: 'renew', decision: 'deny', subject: e.spec.name, detail: { secret: e.spec.name, reason: msg } });
    }
  };
  for (const e of entries) schedule(e);

  const isLive = (e: Entry) => e.state === 'active' && e.value !== undefined && (e.expiresAt === undefined || Date.now() < e.expiresAt);
  const whyDead = (e: Entry) =>
    e.state === 'revoked' || closed
      ? `secret ${e.spec.name} was revoked at session end`
      : `secret ${e.spec.name} expired${e.expiresAt ? ` at ${new Date(e.expiresAt).toISOString()}` : ''}`;

  // 3. The interceptor.
  const scan = (req: RequestView): Hit[] => {
    const hits: Hit[] = [];
    const add = (text: string, where: Hit['where'], header?: string) => {
      for (const m of text.matchAll(PLACEHOLDER_RE)) hits.push({ token: m[0], entry: lookup(m[0]), where, ...(header ? { header } : {}) });
    };
    const path = req.path ?? '';
    add(path, 'url');
    const decoded = safeDecode(path);
    if (decoded !== path) add(decoded, 'url');
    for (const [name, value] of req.headers) {
      add(value, 'header', name);
      const basic = decodeBasic(value);
      if (basic !== undefined) add(basic, 'header', name);
    }
    return hits;
  };
  const lookup = (token: string): Entry | undefined => {
    const t = token.toLowerCase();
    const exact = byPlaceholder.get(t);
    if (exact) return exact;
    for (const [ph, e] of byPlaceholder) if (t.startsWith(ph)) return e; // placeholder followed by word chars
    return undefined;
  };

  const checkRequest = (req: RequestView): InterceptDecision => {
    try {
      return decide(req);
    } catch {
      return { action: 'deny', reason: 'airlock secrets: internal error while inspecting the request', status: 403 };
    }
  };

  const decide = (req: RequestView): InterceptDecision => {
    const host = canonicalHost(req.host);
    const where = `${host}:${req.port}`;
    const hits = scan(req);
    const forHost = entries.filter((e) => hostMatches(e.spec.inject.host, host, req.port));
    const denies: { reason: string; action: 'exfiltration' | 'refuse'; secret: string }[] = [];

    if (req.tls && (hits.length > 0 || forHost.length > 0)) {
      const hh = req.headers.find(([n]) => n.toLowerCase() === 'host')?.[1];
      const parsed = hh !== undefined ? parseHostHeader(hh, 443) : undefined;
      if (!parsed || !sameHost(parsed.host, host) || parsed.port !== req.port) {
        const secret = hits[0]?.entry?.spec.name ?? forHost[0]?.spec.name ?? '?';
        emit({ kind: 'secret', action: 'refuse', decision: 'deny', subject: secret, detail: { secret, host: where, reason: 'host-mismatch', hostHeader: (hh ?? '').slice(0, 255) } });
        return { action: 'deny', reason: `the Host header does not match the TLS target ${where}; secrets are injected only when SNI, CONNECT target and Host agree`, status: 421 };
      }
    }

    for (const h of hits) {
      const e = h.entry;
      if (!e) {
        denies.push({ action: 'refuse', secret: '?', reason: 'the request carries an unknown or stale airlock placeholder (from another session?)' });
        continue;
      }
      const name = e.spec.name;
      if (h.where === 'url') denies.push({ action: 'exfiltration', secret: name, reason: `placeholder of secret ${name} in the URL; secrets travel only in headers` });
      else if (!hostMatches(e.spec.inject.host, host, req.port)) denies.push({ action: 'exfiltration', secret: name, reason: `placeholder of secret ${name} sent to ${where}; it may only go to ${e.spec.inject.host.text}` });
      else if (!req.tls) denies.push({ action: 'exfiltration', secret: name, reason: `placeholder of secret ${name} over plain HTTP; use https://` });
      else if (!isLive(e)) denies.push({ action: 'refuse', secret: name, reason: whyDead(e) });
    }
    if (denies.length) {
      const seen = new Set<string>();
      for (const d of denies) {
        const key = `${d.action}|${d.secret}|${d.reason}`;
        if (seen.has(key)) continue;
        seen.add(key);
        emit({
          kind: 'secret',
          action: d.action,
          decision: 'deny',
          subject: d.secret,
          detail: { secret: d.secret, host: where, method: req.method, tls: req.tls, reason: d.reason },
        });
      }
      return { action: 'deny', reason: denies[0]!.reason, status: 403 };
    }

    // Inject: only over terminated TLS, only toward the declared host, only live values.
    let headers = req.headers;
    if (req.tls) {
      const used = new Set<Entry>();
      for (const e of forHost) {
        if (!isLive(e)) continue;
        const value = e.value!;
        const carried = hits.some((h) => h.entry === e);
        // Replacement mode only: with a header rule the value goes into that header and nowhere
        // else (a placeholder copied into another header stays a placeholder).
        if (carried && !e.spec.inject.header) {
          const re = () => new RegExp(e.placeholder, 'gi');
          headers = headers.map(([n, v]): [string, string] => {
            const basic = decodeBasic(v);
            if (basic !== undefined && re().test(basic)) return [n, `Basic ${Buffer.from(basic.replace(re(), value)).toString('base64')}`];
            return [n, v.replace(re(), value)];
          });
          used.add(e);
        }
        if (e.spec.inject.header) {
          const hn = e.spec.inject.header.toLowerCase();
          headers = [...headers.filter(([n]) => n.toLowerCase() !== hn), [e.spec.inject.header, formatValue(e.spec.inject.format, value)]];
          used.add(e);
        }
      }
      for (const e of used) emit({ kind: 'secret', action: 'use', decision: 'allow', subject: e.spec.name, detail: { secret: e.spec.name, host: where, method: req.method } });
    }
    return { action: 'forward', headers };
  };

  const terminationRules = policy.network.allow.filter((r) => r.methods !== undefined || r.paths !== undefined);
  const wantsTermination = (host: string, port: number): boolean => {
    if (closed) return false;
    const h = canonicalHost(host);
    return entries.some((e) => hostMatches(e.spec.inject.host, h, port)) || terminationRules.some((r) => hostMatches(r.pattern, h, port) && (r.ports === undefined || r.ports.includes(port)));
  };

  // TLS termination: a per-session CA, leaves on demand; decrypted requests go to the proxy's `forward`.
  const ca: SessionCA = createSessionCA(`airlock session CA ${sessionId}`);
  const live = new Set<TLSSocket>();
  const routes = new WeakMap<object, { target: { host: string; port: number }; forward: TerminatedForward }>();
  const inner: Server = createServer({ keepAlive: true }, (req: IncomingMessage, res: ServerResponse) => {
    const route = routes.get(req.socket);
    if (!route) {
      res.writeHead(502, { 'X-Airlock-Deny': 'no route for this connection' }).end();
      return;
    }
    const hh = req.headers.host;
    const parsed = hh !== undefined ? parseHostHeader(hh, 443) : undefined;
    if (!parsed || !sameHost(parsed.host, route.target.host) || parsed.port !== route.target.port) {
      const reason = `the Host header does not match the CONNECT target ${route.target.host}:${route.target.port}`;
      emit({ kind: 'secret', action: 'refuse', decision: 'deny', subject: `${route.target.host}:${route.target.port}`, detail: { host: `${route.target.host}:${route.target.port}`, reason: 'host-mismatch', hostHeader: (hh ?? '').slice(0, 255) } });
      res.writeHead(421, { 'X-Airlock-Deny': reason, 'Content-Type': 'text/plain', Connection: 'close' }).end(`airlock: ${reason}\n`);
      return;
    }
    // If the upstream reflects a credential (echo endpoints, error pages), mask it on the way back.
    scrubResponse(
      res,
      () => entries.filter(isLive).flatMap((e) => (e.spec.inject.format === 'basic' ? [e.value!, Buffer.from(e.value!).toString('base64')] : [e.value!])),
      (count) => emit({ kind: 'secret', action: 'redact', decision: 'info', subject: `${route.target.host}:${route.target.port}`, detail: { host: `${route.target.host}:${route.target.port}`, count, path: (req.url ?? '').slice(0, 200) } }),
    );
    route.forward(req, res, route.target);
  });
  inner.on('clientError', (_err, socket) => socket.destroy());

  const terminate = (client: Duplex, target: { host: string; port: number }, forward: TerminatedForward): void => {
    const host = canonicalHost(target.host);
    const where = `${host}:${target.port}`;
    let leafCtx;
    try {
      if (closed) throw new Error('closed');
      leafCtx = ca.leaf(host).context;
    } catch {
      client.destroy();
      return;
    }
    const refuse = (reason: string, sni: string) => emit({ kind: 'secret', action: 'refuse', decision: 'deny', subject: where, detail: { host: where, reason, sni: sni.slice(0, 255) } });
    // Small request/response exchanges over a terminated tunnel: no Nagle delay on the client side.
    (client as Duplex & { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
    const sock = new TLSSocket(client, {
      isServer: true,
      secureContext: leafCtx,
      ALPNProtocols: ['http/1.1'],
      SNICallback: (servername, cb) => {
        if (sameHost(servername, host)) cb(null, leafCtx);
        else {
          refuse('sni-mismatch', servername);
          cb(new Error(`SNI ${servername} does not match the CONNECT target ${where}`), undefined);
        }
      },
    });
    live.add(sock);
    const cleanup = () => {
      live.delete(sock);
      client.destroy();
    };
    sock.on('error', () => sock.destroy());
    sock.on('close', cleanup);
    sock.on('secure', () => {
      const sni = (sock as TLSSocket & { servername?: string | false }).servername;
      if (!sni && !isIP(host)) {
        refuse('sni-missing', '');
        sock.destroy();
        return;
      }
      routes.set(sock, { target: { host, port: target.port }, forward });
      inner.emit('connection', sock);
    });
  };

  const interceptor: Interceptor = { checkRequest, wantsTermination, terminate };

  const env: Record<string, string> = {};
  for (const e of entries) env[e.spec.name] = e.placeholder;

  const sandboxCaFiles = (dir: string, o: { sandboxDir?: string } = {}): SandboxCaFiles => {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    let system = '';
    try {
      system = readFileSync(SYSTEM_BUNDLE, 'utf8');
    } catch {
      system = rootCertificates.join('\n');
    }
    const bundlePath = join(dir, 'ca-bundle.pem');
    const caPath = join(dir, 'session-ca.pem');
    writeFileSync(bundlePath, `${system.trimEnd()}\n\n# airlock session CA (${sessionId})\n${ca.certPem}`, { mode: 0o644 });
    writeFileSync(caPath, ca.certPem, { mode: 0o644 });
    const inside = o.sandboxDir ?? dir;
    const b = join(inside, 'ca-bundle.pem');
    const c = join(inside, 'session-ca.pem');
    return {
      mounts: [{ source: dir, target: inside, kind: 'bind', readonly: true }],
      env: {
        SSL_CERT_FILE: b,
        NODE_EXTRA_CA_CERTS: c,
        REQUESTS_CA_BUNDLE: b,
        CURL_CA_BUNDLE: b,
        GIT_SSL_CAINFO: b,
        PIP_CERT: b,
        CARGO_HTTP_CAINFO: b,
        DENO_CERT: b,
        AWS_CA_BUNDLE: b,
      },
      bundlePath,
      caPath,
    };
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    const revocations: Promise<void>[] = [];
    for (const e of entries) {
      for (const t of e.timers) clearTimeout(t);
      e.timers = [];
      e.state = 'revoked';
      e.value = undefined;
      for (const tok of e.minted ?? []) {
        revocations.push(
          revokeInstallationToken(e.spec.mint!, tok, mintCa).then(
            (status) => emit({ kind: 'secret', action: 'revoke', decision: status === 204 || status === 404 || status === 401 ? 'allow' : 'deny', subject: e.spec.name, detail: { secret: e.spec.name, provider: 'github-app', status } }),
            (err: Error) => emit({ kind: 'secret', action: 'revoke', decision: 'deny', subject: e.spec.name, detail: { secret: e.spec.name, provider: 'github-app', reason: err.message } }),
          ),
        );
      }
      e.minted = [];
    }
    for (const s of live) s.destroy();
    live.clear();
    inner.close();
    ca.destroy();
    await Promise.all(revocations);
  };

  for (const e of entries) {
    emit({
      kind: 'secret',
      action: 'issue',
      decision: 'info',
      subject: e.spec.name,
      detail: { secret: e.spec.name, source: e.spec.mint ? 'mint:github-app' : e.spec.source ? describeSource(e.spec.source) : '?', injectHost: e.spec.inject.host.text, ...(e.expiresAt ? { expiresAt: new Date(e.expiresAt).toISOString() } : {}) },
    });
  }

  return {
    env,
    interceptor,
    caCertPem: ca.certPem,
    upstreamTrust: trust.all,
    sandboxCaFiles,
    names: entries.map((e) => e.spec.name),
    secretsIn: (text: string) => entries.filter((e) => e.value !== undefined && text.includes(e.value)).map((e) => e.spec.name),
    close,
  };
}
