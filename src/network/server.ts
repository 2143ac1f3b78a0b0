/**
 * The proxy core: an HTTP forward proxy (absolute-form requests) and CONNECT tunnels, built on
 * node:http with its strict parser (no `insecureHTTPParser`, bounded header size) plus our own
 * framing checks, so every request is decided on exactly the bytes the upstream will see.
 *
 * Per attempt: parse and normalise the target → refuse conflicts and smuggling shapes (400) →
 * policy (match.ts, 403) → interceptor (secrets broker) → resolve once and check every address
 * (guard.ts, 403) → dial the checked address → relay, counting bytes → one `network` audit event.
 *
 * This class runs in whatever thread constructs it; index.ts decides which (see there).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { EventInput } from '../audit/types.js';
import type { Interceptor } from './interceptor.js';
import { compileNetworkMatcher, normalizeTarget, printable, splitHostPort, type NetworkMatcher } from './match.js';
import { resolveAndCheck, systemResolver, type Resolver } from './guard.js';
import type { IPAddr } from './ip.js';
import { peekFirstBytes } from './tls-peek.js';
import type { NetworkRule } from '../policy/compile.js';

export interface ProxyCoreOptions {
  network: { allow: NetworkRule[]; deny: NetworkRule[] };
  emit: (e: EventInput) => void;
  interceptor?: Interceptor;
  /** Extra PEM trusted for upstream TLS (terminated connections only). */
  upstreamCA?: string;
  resolver?: Resolver;
  /** Largest request head accepted (bytes); default 32 KiB. */
  maxHeaderSize?: number;
  /** How long a client may take to send its first bytes through a tunnel before we stop peeking. */
  peekTimeoutMs?: number;
  /** Concurrent client connections accepted (default 1024); more are closed at accept. */
  maxConnections?: number;
  /** A listening-socket error after start (recorded as a session error by the caller). */
  onServerError?: (err: Error) => void;
}

/** Everything recorded for one attempt; becomes the event's `detail`. */
interface Attempt {
  action: 'request' | 'connect';
  host: string;
  port: number;
  method?: string;
  path?: string;
  decision: 'allow' | 'deny';
  reason: string;
  status?: number;
  address?: string;
  tls?: boolean;
  bytesUp: number;
  bytesDown: number;
  start: number;
  error?: string;
}

const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export class ProxyCore {
  readonly server: http.Server;
  private readonly matcher: NetworkMatcher;
  private readonly resolver: Resolver;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxFreeSockets: 64, scheduling: 'lifo' });
  private readonly httpsAgent: https.Agent;
  private readonly sockets = new Set<Duplex>();
  private closed = false;

  constructor(private readonly opts: ProxyCoreOptions) {
    this.matcher = compileNetworkMatcher(opts.network);
    this.resolver = opts.resolver ?? systemResolver;
    // One secure context built once: passing `ca` as an agent option makes Node rebuild the pool
    // key from the whole CA list on every request (~2 ms CPU each).
    const secureContext = opts.upstreamCA ? tls.createSecureContext({ ca: [...tls.rootCertificates, opts.upstreamCA] }) : undefined;
    this.httpsAgent = new https.Agent({ keepAlive: true, ...(secureContext ? { secureContext } : {}) });
    this.server = http.createServer({
      insecureHTTPParser: false,
      maxHeaderSize: opts.maxHeaderSize ?? 32 * 1024,
      requestTimeout: 0,
      headersTimeout: 30_000,
      keepAliveTimeout: 60_000,
      joinDuplicateHeaders: false,
    });
    // Bounded: an agent opening connections in a loop cannot exhaust airlock's descriptors.
    this.server.maxConnections = opts.maxConnections ?? 1024;
    this.server.on('connection', (s: net.Socket) => this.track(s));
    this.server.on('request', (req, res) => this.guarded(res, () => this.onRequest(req, res)));
    this.server.on('connect', (req, socket: Duplex, head: Buffer) => this.guardedRaw(socket, () => this.onConnect(req, socket, head)));
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
      this.rawRefuse(socket, 403, 'upgrade (WebSocket) over plain HTTP is not supported; use https:// (CONNECT)');
      this.record({ ...this.blank('request', req), decision: 'deny', reason: 'upgrade over plain HTTP is not supported', status: 403 });
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket));
    // After listen() succeeded, a server error (e.g. EMFILE on accept) must not crash airlock.
    this.server.on('error', (err: Error) => {
      if (this.server.listening) opts.onServerError?.(err);
    });
  }

  /** Listens on a unix socket path (mode 0600 unless given). */
  listenUnix(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onErr = (e: Error) => reject(e);
      this.server.once('error', onErr);
      this.server.listen(path, () => {
        this.server.off('error', onErr);
        resolve();
      });
    });
  }

  /** Listens on 127.0.0.1 (tests, benchmarks); resolves to the port. */
  listenTcp(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer((s) => this.server.emit('connection', s));
      srv.once('error', reject);
      srv.listen(port, host, () => {
        this.extraListeners.push(srv);
        resolve((srv.address() as net.AddressInfo).port);
      });
    });
  }
  private extraListeners: net.Server[] = [];

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.extraListeners) l.close();
    const done = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    await done;
  }

  private track(s: Duplex): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    s.on('error', () => {});
  }

  private guarded(res: http.ServerResponse, fn: () => Promise<void>): void {
    fn().catch((err: Error) => {
      if (!res.headersSent) this.refuse(res, 502, `proxy error: ${err.message}`, 'X-Airlock-Error');
      else res.destroy();
    });
  }

  private guardedRaw(socket: Duplex, fn: () => Promise<void>): void {
    this.track(socket);
    fn().catch((err: Error) => this.rawRefuse(socket, 502, `proxy error: ${err.message}`, 'X-Airlock-Error'));
  }

  private blank(action: Attempt['action'], req: http.IncomingMessage): Attempt {
    return { action, host: '', port: 0, method: req.method, decision: 'deny', reason: '', bytesUp: 0, bytesDown: 0, start: performance.now() };
  }

  /** Emits one `network` event per attempt. Never throws. */
  private record(a: Attempt): void {
    const hostPort = a.host ? `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}` : '(malformed request)';
    const detail: Record<string, unknown> = {
      host: a.host || null,
      port: a.port || null,
      method: a.method ?? null,
      path: a.path === undefined ? null : a.path.length > 512 ? `${a.path.slice(0, 512)}…` : a.path,
      decision: a.decision,
      reason: a.reason,
      bytesUp: a.bytesUp,
      bytesDown: a.bytesDown,
      durationMs: Math.round((performance.now() - a.start) * 1000) / 1000,
      address: a.address ?? null,
    };
    if (a.status !== undefined) detail.status = a.status;
    if (a.tls) detail.tls = true;
    if (a.error) detail.error = a.error;
    try {
      this.opts.emit({ kind: 'network', action: a.action, decision: a.decision, subject: hostPort, detail });
    } catch {
      /* the sink must not break the proxy */
    }
  }

  // ---- plain HTTP -------------------------------------------------------------------------

  /** Refuses one request: answer (403/400 + X-Airlock-Deny), drain its body, record the attempt. */
  private denier(a: Attempt, req: http.IncomingMessage, res: http.ServerResponse): (status: number, reason: string) => void {
    return (status, reason) => {
      a.decision = 'deny';
      a.reason = reason;
      a.status = status;
      if (status === 400) res.shouldKeepAlive = false;
      this.refuse(res, status, reason);
      req.resume();
      this.record(a);
    };
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const a = this.blank('request', req);
    const deny = this.denier(a, req, res);
    const framing = checkFraming(req.rawHeaders);
    if (framing) return deny(400, `malformed request: ${framing}`);
    const url = req.url ?? '';
    const m = /^http:\/\/([^/?#]*)([^#]*)$/i.exec(url);
    if (!m) {
      if (url.startsWith('/')) return deny(400, 'malformed request: origin-form target; airlock is a forward proxy, send the absolute URL (http://host/path)');
      if (/^https:/i.test(url)) return deny(400, 'malformed request: https:// URLs go through CONNECT');
      return deny(400, `malformed request: unsupported request target "${printable(url)}"`);
    }
    const authority = m[1]!;
    let path = m[2] || '/';
    if (path.startsWith('?')) path = `/${path}`;
    a.path = path;
    if (authority.includes('@')) return deny(400, 'malformed request: user info in the URL authority is ambiguous');
    const hp = splitHostPort(authority);
    if (!hp) return deny(400, `malformed request: bad authority "${printable(authority)}"`);
    const nt = normalizeTarget(hp.host);
    if (!nt.ok) return deny(400, `malformed request: ${nt.why}`);
    a.host = nt.host;
    a.port = hp.port ?? 80;
    const conflict = hostHeaderConflict(req.headers.host, nt.host, a.port, 80);
    if (conflict) return deny(400, `conflicting target: ${conflict}`);
    if (!/^\/[\x21-\x7e]*$/.test(path)) return deny(400, 'malformed request: bad characters in the path');

    const d = this.matcher.decide({ host: nt.host, ip: nt.ip, port: a.port, method: req.method, path });
    if (d.verdict !== 'allow') {
      // A placeholder headed for a denied host is still an exfiltration attempt: the broker sees
      // the request (and records it) even though the policy refuses it anyway.
      const ic = this.opts.interceptor?.checkRequest({ host: nt.host, port: a.port, method: req.method!, path, headers: headerPairs(req.rawHeaders), tls: false });
      return deny(403, ic?.action === 'deny' ? ic.reason : d.reason);
    }
    let headers = headerPairs(req.rawHeaders);
    if (this.opts.interceptor) {
      const ic = this.opts.interceptor.checkRequest({ host: nt.host, port: a.port, method: req.method!, path, headers, tls: false });
      if (ic.action === 'deny') return deny(ic.status ?? 403, ic.reason);
      headers = ic.headers;
    }
    const g = await this.check(nt.host, nt.ip, a.port);
    if (!g.ok) {
      a.address = g.address;
      return g.kind === 'blocked' ? deny(403, g.reason) : this.fail(res, a, 502, g.reason);
    }
    a.decision = 'allow';
    a.reason = d.reason;
    this.forward(req, res, a, g.addresses[0]!, headers, authority, false);
  }

  /** Resolve + guard with the matcher's exemptions. */
  private async check(host: string, ip: IPAddr | undefined, port: number) {
    const r = await resolveAndCheck(
      host,
      ip,
      this.resolver,
      (x) => this.matcher.exempts(x, port),
      (x) => this.matcher.deniedAddress(x, port),
    );
    if (r.ok) return { ok: true as const, addresses: [...r.addresses].sort((x, y) => x.family - y.family) };
    if (r.kind === 'blocked') return { ok: false as const, kind: 'blocked' as const, address: r.address, reason: `blocked address: ${host} -> ${r.address} is ${r.why}; only an allow rule naming that literal address opens it` };
    return { ok: false as const, kind: 'resolve' as const, address: undefined, reason: r.why };
  }

  private fail(res: http.ServerResponse, a: Attempt, status: number, why: string): void {
    a.decision = 'allow';
    a.reason = 'allowed by policy';
    a.error = why;
    a.status = status;
    this.refuse(res, status, why, 'X-Airlock-Error');
    this.record(a);
  }

  /** Sends one request to the checked address and streams the answer back. */
  private forward(req: http.IncomingMessage, res: http.ServerResponse, a: Attempt, addr: IPAddr, pairs: [string, string][], authority: string, useTls: boolean): void {
    a.address = addr.text;
    const connTokens = new Set(
      pairs
        .filter(([k]) => k.toLowerCase() === 'connection')
        .flatMap(([, v]) => v.split(','))
        .map((t) => t.trim().toLowerCase()),
    );
    const flat: string[] = [];
    let hasHost = false;
    for (const [k, v] of pairs) {
      const lk = k.toLowerCase();
      if (HOP_BY_HOP.has(lk) || connTokens.has(lk)) continue;
      if (lk === 'host') hasHost = true;
      flat.push(k, v);
    }
    if (!hasHost) flat.unshift('Host', authority);
    const options: https.RequestOptions = {
      host: addr.text,
      family: addr.family,
      port: a.port,
      method: req.method,
      path: a.path,
      headers: flat as unknown as http.OutgoingHttpHeaders,
      setHost: false,
      agent: useTls ? this.httpsAgent : this.httpAgent,
    };
    if (useTls && !a.host.match(/^[0-9.]+$|:/)) options.servername = a.host;
    const up = (useTls ? https : http).request(options);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.record(a);
    };
    up.on('response', (ur) => {
      a.status = ur.statusCode;
      const out: string[] = [];
      const tokens = new Set(
        String(ur.headers.connection ?? '')
          .split(',')
          .map((t) => t.trim().toLowerCase()),
      );
      for (let i = 0; i < ur.rawHeaders.length; i += 2) {
        const lk = ur.rawHeaders[i]!.toLowerCase();
        if (HOP_BY_HOP.has(lk) || tokens.has(lk)) continue;
        out.push(ur.rawHeaders[i]!, ur.rawHeaders[i + 1]!);
      }
      try {
        res.writeHead(ur.statusCode ?? 502, ur.statusMessage, out);
      } catch (err) {
        ur.destroy();
        a.error = `bad upstream response: ${(err as Error).message}`;
        res.destroy();
        return;
      }
      ur.on('data', (c: Buffer) => (a.bytesDown += c.length));
      ur.pipe(res);
      ur.on('error', () => res.destroy());
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      a.error = `upstream: ${err.code ?? err.message}`;
      if (!res.headersSent) {
        a.status = 502;
        this.refuse(res, 502, `upstream ${a.host}:${a.port} (${addr.text}) failed: ${err.code ?? err.message}`, 'X-Airlock-Error');
      } else res.destroy();
    });
    req.on('data', (c: Buffer) => (a.bytesUp += c.length));
    req.on('error', () => up.destroy());
    req.on('aborted', () => up.destroy());
    req.pipe(up);
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
      finish();
    });
  }

  // ---- CONNECT ----------------------------------------------------------------------------

  private async onConnect(req: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    const a = this.blank('connect', req);
    a.method = 'CONNECT';
    const deny = (status: number, reason: string) => {
      a.decision = 'deny';
      a.reason = reason;
      a.status = status;
      this.rawRefuse(client, status, reason);
      this.record(a);
    };
    const framing = checkFraming(req.rawHeaders);
    if (framing) return deny(400, `malformed request: ${framing}`);
    const target = req.url ?? '';
    if (target.includes('@') || target.includes('/')) return deny(400, `malformed request: CONNECT target "${printable(target)}" must be host:port`);
    const hp = splitHostPort(target);
    if (!hp || hp.port === undefined) return deny(400, `malformed request: CONNECT target "${printable(target)}" must be host:port`);
    const nt = normalizeTarget(hp.host);
    if (!nt.ok) return deny(400, `malformed request: ${nt.why}`);
    a.host = nt.host;
    a.port = hp.port;
    const conflict = hostHeaderConflict(req.headers.host, nt.host, a.port, a.port);
    if (conflict) return deny(400, `conflicting target: ${conflict}`);

    const d = this.matcher.decide({ host: nt.host, ip: nt.ip, port: a.port });
    if (d.verdict === 'deny') return deny(403, d.reason);
    const ic = this.opts.interceptor;
    const terminate = ic ? safeBool(() => ic.wantsTermination(nt.host, a.port)) : false;
    if (d.verdict === 'inspect' && !terminate) return deny(403, d.reason);

    if (terminate && ic) {
      a.decision = 'allow';
      a.reason = `${d.reason}; TLS terminated by the secrets broker`;
      a.tls = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) client.unshift(head);
      const sock = client as net.Socket;
      const r0 = sock.bytesRead ?? 0;
      const w0 = sock.bytesWritten ?? 0;
      client.once('close', () => {
        a.bytesUp = (sock.bytesRead ?? r0) - r0;
        a.bytesDown = (sock.bytesWritten ?? w0) - w0;
        this.record(a);
      });
      ic.terminate(client, { host: nt.host, port: a.port }, (ireq, ires, t) => this.guarded(ires, () => this.onTerminated(ireq, ires, t)));
      return;
    }

    const g = await this.check(nt.host, nt.ip, a.port);
    if (!g.ok) {
      a.address = g.address;
      if (g.kind === 'blocked') return deny(403, g.reason);
      a.decision = 'allow';
      a.reason = d.reason;
      a.error = g.reason;
      a.status = 502;
      this.rawRefuse(client, 502, g.reason, 'X-Airlock-Error');
      this.record(a);
      return;
    }
    a.decision = 'allow';
    a.reason = d.reason;
    const upstream = await this.dial(g.addresses, a.port);
    if (!upstream.ok) {
      a.address = g.addresses[0]!.text;
      a.error = upstream.why;
      a.status = 502;
      this.rawRefuse(client, 502, `cannot reach ${a.host}:${a.port}: ${upstream.why}`, 'X-Airlock-Error');
      this.record(a);
      return;
    }
    const up = upstream.socket;
    this.track(up);
    a.address = upstream.address;
    if (client.destroyed) {
      up.destroy();
      this.record(a);
      return;
    }
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    this.tunnel(client, up, head, a, nt.host, nt.ip !== undefined);
  }

  private dial(addrs: IPAddr[], port: number): Promise<{ ok: true; socket: net.Socket; address: string } | { ok: false; why: string }> {
    return new Promise((resolve) => {
      let i = 0;
      let lastErr = 'no address';
      const next = () => {
        const addr = addrs[i++];
        if (!addr) return resolve({ ok: false, why: lastErr });
        const s = net.connect({ host: addr.text, port, family: addr.family, noDelay: true });
        const t = setTimeout(() => s.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), 10_000);
        s.once('connect', () => {
          clearTimeout(t);
          s.removeAllListeners('error');
          resolve({ ok: true, socket: s, address: addr.text });
        });
        s.once('error', (e: NodeJS.ErrnoException) => {
          clearTimeout(t);
          lastErr = e.code ?? e.message;
          next();
        });
      };
      next();
    });
  }

  /**
   * Relays bytes both ways. The first client bytes are held back until we can tell what they
   * are: a TLS ClientHello whose SNI names another host, or an HTTP request whose Host names
   * another host, closes the tunnel (domain fronting / target confusion). Upstream→client flows
   * immediately, so server-speaks-first protocols work.
   */
  private tunnel(client: Duplex, up: net.Socket, head: Buffer, a: Attempt, host: string, isIp: boolean): void {
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      client.destroy();
      up.destroy();
      a.bytesUp = up.bytesWritten;
      a.bytesDown = up.bytesRead;
      this.record(a);
    };
    client.on('close', end);
    up.on('close', end);
    client.on('error', end);
    up.on('error', end);
    (client as net.Socket).setNoDelay?.(true);
    up.pipe(client);

    let held = head;
    const timer = setTimeout(() => release(), this.opts.peekTimeoutMs ?? 10_000);
    const onData = (c: Buffer) => {
      held = held.length ? Buffer.concat([held, c]) : c;
      inspect();
    };
    const release = () => {
      clearTimeout(timer);
      client.off('data', onData);
      if (held.length) up.write(held);
      held = Buffer.alloc(0);
      client.pipe(up);
    };
    const inspect = () => {
      const p = peekFirstBytes(held);
      if (p.kind === 'incomplete') return;
      let why: string | undefined;
      if (p.kind === 'malformed') why = `tunnel to ${host}:${a.port}: ${p.why}`;
      else if (p.kind === 'tls' && p.sni !== undefined) {
        const sn = normalizeTarget(p.sni);
        if (!sn.ok || sn.host !== host || isIp) why = `TLS server name "${printable(p.sni)}" does not match the CONNECT target ${host}:${a.port}`;
      } else if (p.kind === 'http' && p.host !== undefined) {
        const c = hostHeaderConflict(p.host, host, a.port, a.port);
        if (c) why = `Host inside the tunnel conflicts: ${c}`;
      }
      if (why) {
        clearTimeout(timer);
        client.off('data', onData);
        a.decision = 'deny';
        a.reason = `conflicting target: ${why}`;
        end();
        return;
      }
      release();
    };
    client.on('data', onData);
    if (held.length) inspect();
  }

  /** One decrypted request from a TLS session the interceptor terminated. */
  private async onTerminated(req: http.IncomingMessage, res: http.ServerResponse, target: { host: string; port: number }): Promise<void> {
    const a = this.blank('request', req);
    a.host = target.host;
    a.port = target.port;
    a.tls = true;
    const deny = this.denier(a, req, res);
    const framing = checkFraming(req.rawHeaders);
    if (framing) return deny(400, `malformed request: ${framing}`);
    // An Upgrade (WebSocket) cannot be relayed request by request: refuse it plainly instead of
    // forwarding a stripped GET, so clients fall back to ordinary HTTPS requests at once.
    if (req.headers.upgrade !== undefined) return deny(403, 'upgrade (WebSocket) inside a TLS-terminated connection is not supported; use plain HTTPS requests');
    let path = req.url ?? '';
    const abs = /^https:\/\/([^/?#]*)([^#]*)$/i.exec(path);
    if (abs) {
      const hp = splitHostPort(abs[1]!);
      const nt = hp && normalizeTarget(hp.host);
      if (!hp || !nt || !nt.ok || nt.host !== target.host || (hp.port ?? 443) !== target.port) return deny(400, `conflicting target: URL authority "${printable(abs[1]!)}" is not the CONNECT target ${target.host}:${target.port}`);
      path = abs[2] || '/';
    }
    a.path = path;
    if (!/^\/[\x21-\x7e]*$/.test(path)) return deny(400, 'malformed request: bad request target');
    if (req.headers.host === undefined) return deny(400, 'malformed request: missing Host header');
    const conflict = hostHeaderConflict(req.headers.host, target.host, target.port, 443);
    if (conflict) return deny(400, `conflicting target: ${conflict}`);
    const nt = normalizeTarget(target.host);
    if (!nt.ok) return deny(400, `malformed request: ${nt.why}`);
    const d = this.matcher.decide({ host: nt.host, ip: nt.ip, port: target.port, method: req.method, path });
    if (d.verdict !== 'allow') return deny(403, d.reason);
    let headers = headerPairs(req.rawHeaders);
    if (this.opts.interceptor) {
      const ic = this.opts.interceptor.checkRequest({ host: nt.host, port: target.port, method: req.method!, path, headers, tls: true });
      if (ic.action === 'deny') return deny(ic.status ?? 403, ic.reason);
      headers = ic.headers;
    }
    const g = await this.check(nt.host, nt.ip, target.port);
    if (!g.ok) {
      a.address = g.address;
      return g.kind === 'blocked' ? deny(403, g.reason) : this.fail(res, a, 502, g.reason);
    }
    a.decision = 'allow';
    a.reason = d.reason;
    this.forward(req, res, a, g.addresses[0]!, headers, target.port === 443 ? target.host : `${target.host}:${target.port}`, true);
  }

  // ---- replies ----------------------------------------------------------------------------

  private refuse(res: http.ServerResponse, status: number, reason: string, header = 'X-Airlock-Deny'): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `airlock: ${reason}\n`;
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      [header]: headerSafe(reason),
      ...(status === 400 ? { Connection: 'close' } : {}),
    });
    res.end(body);
  }

  private rawRefuse(socket: Duplex, status: number, reason: string, header = 'X-Airlock-Deny'): void {
    if (socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    const body = `airlock: ${reason}\n`;
    const text = status === 403 ? 'Forbidden' : status === 400 ? 'Bad Request' : status === 502 ? 'Bad Gateway' : 'Error';
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${header}: ${headerSafe(reason)}\r\nConnection: close\r\n\r\n${body}`,
    );
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable) {
      socket.destroy();
      return;
    }
    const reason = err.code === 'HPE_HEADER_OVERFLOW' ? 'malformed request: headers too large' : `malformed request: ${err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_HEADER_TIMEOUT' ? 'timed out reading the request' : (err.message || String(err.code)).replace(/^Parse Error: /, '')}`;
    this.rawRefuse(socket, 400, reason);
    this.record({ action: 'request', host: '', port: 0, decision: 'deny', reason, status: 400, bytesUp: 0, bytesDown: 0, start: performance.now() });
  }
}

/** Smuggling shapes node's parser would accept but we refuse outright. */
export function checkFraming(raw: string[]): string | undefined {
  let cl = 0;
  let te = 0;
  let host = 0;
  let teValue = '';
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!.toLowerCase();
    const v = raw[i + 1] ?? '';
    if (/[\r\n\0]/.test(v)) return `line break or NUL in header ${printable(raw[i]!)}`;
    if (n === 'content-length') {
      cl++;
      if (!/^\d{1,15}$/.test(v.trim())) return `invalid Content-Length "${printable(v)}"`;
    } else if (n === 'transfer-encoding') {
      te++;
      teValue = v;
    } else if (n === 'host') host++;
  }
  if (cl > 1) return 'duplicate Content-Length';
  if (te > 1) return 'duplicate Transfer-Encoding';
  if (cl && te) return 'both Content-Length and Transfer-Encoding';
  if (te && teValue.trim().toLowerCase() !== 'chunked') return `Transfer-Encoding "${printable(teValue)}" (only "chunked" is accepted)`;
  if (host > 1) return 'duplicate Host header';
  return undefined;
}

/** Compares a Host header with the target; returns a description of the conflict, if any. */
function hostHeaderConflict(hostHeader: string | undefined, host: string, port: number, defaultPort: number): string | undefined {
  if (hostHeader === undefined) return undefined;
  const hp = splitHostPort(hostHeader.trim());
  if (!hp) return `Host header "${printable(hostHeader)}" is not host[:port]`;
  const nt = normalizeTarget(hp.host);
  if (!nt.ok) return `Host header: ${nt.why}`;
  if (nt.host !== host || (hp.port ?? defaultPort) !== port) return `Host header "${printable(hostHeader)}" names another target than ${host}:${port}`;
  return undefined;
}

function headerPairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function headerSafe(s: string): string {
  const t = s.replace(/[^\x20-\x7e]/g, '?');
  return t.length > 300 ? `${t.slice(0, 300)}...` : t;
}

function safeBool(fn: () => boolean): boolean {
  try {
    return fn() === true;
  } catch {
    return false;
  }
}
