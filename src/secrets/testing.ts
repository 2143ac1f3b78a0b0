/**
 * Test and benchmark support for the secrets broker — loopback only, never imported by the CLI.
 *
 * - `startEchoServer`: an HTTPS server on 127.0.0.1 whose certificate comes from a test CA (the
 *   "real upstream"); it answers every request with a JSON echo and records what it received.
 * - `startMiniProxy`: the smallest proxy that honours the `Interceptor` contract of
 *   `network/interceptor.ts` (CONNECT → terminate or opaque tunnel; plain HTTP → checkRequest), with
 *   a fixed name → loopback address map instead of DNS. It lets the broker be tested end to end
 *   before and independently of the real proxy, and is the baseline in `bench/inject`.
 * - `httpsViaProxy` / `httpViaProxy`: a client that speaks CONNECT + TLS (or plain proxy HTTP).
 */
import { request as httpRequest, createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { connect as netConnect, isIP, type AddressInfo, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, createSecureContext } from 'node:tls';
import type { Interceptor, RequestView } from '../network/interceptor.js';
import type { SessionCA } from './x509.js';

export interface EchoRecord {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  sni: string | undefined;
  body: string;
}

export interface EchoServer {
  port: number;
  received: EchoRecord[];
  close(): Promise<void>;
}

/** HTTPS echo server on 127.0.0.1 presenting a leaf of `ca` for whatever SNI the client sends (default `defaultName`). */
export async function startEchoServer(ca: SessionCA, defaultName = '127.0.0.1'): Promise<EchoServer> {
  const received: EchoRecord[] = [];
  const def = ca.leaf(defaultName);
  const server: HttpsServer = createHttpsServer(
    {
      key: def.keyPem,
      cert: def.certPem,
      SNICallback: (name, cb) => cb(null, ca.leaf(name).context),
      keepAlive: true,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rec: EchoRecord = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          rawHeaders: req.rawHeaders,
          sni: (req.socket as Socket & { servername?: string }).servername || undefined,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        received.push(rec);
        const out = JSON.stringify({ method: rec.method, path: rec.path, headers: rec.headers });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out) }).end(out);
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface MiniProxy {
  port: number;
  close(): Promise<void>;
}

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function headerObject(p: [string, string][]): Record<string, string | string[]> {
  const o: Record<string, string | string[]> = {};
  for (const [n, v] of p) {
    const k = n.toLowerCase();
    const cur = o[k];
    o[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  return o;
}

const HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * A loopback proxy implementing the interceptor contract. `resolve` maps a requested host:port
 * to the loopback port that plays it (unknown names are refused with 403).
 */
export async function startMiniProxy(opts: { interceptor?: Interceptor; trust: string[]; resolve: (host: string, port: number) => number | undefined }): Promise<MiniProxy> {
  // One secure context built once: passing `ca` to the agent would re-join the whole CA list into
  // the pool key on every request (https.Agent#getName) and rebuild a context per connection.
  const agent = new HttpsAgent({ keepAlive: true, secureContext: createSecureContext({ ca: opts.trust }) });
  const deny = (res: import('node:http').ServerResponse, status: number, reason: string) => {
    if (res.headersSent) return res.destroy();
    res.writeHead(status, { 'X-Airlock-Deny': reason, 'Content-Type': 'text/plain' }).end(`airlock: ${reason}\n`);
  };
  const upstream = (view: RequestView, req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const decision = opts.interceptor ? opts.interceptor.checkRequest(view) : { action: 'forward' as const, headers: view.headers };
    if (decision.action === 'deny') return deny(res, decision.status ?? 403, decision.reason);
    const port = opts.resolve(view.host, view.port);
    if (port === undefined) return deny(res, 403, `host ${view.host} not allowed`);
    const headers = headerObject(decision.headers.filter(([n]) => !HOP.has(n.toLowerCase())));
    const up = (view.tls ? httpsRequest : httpRequest)(
      { host: '127.0.0.1', port, method: view.method, path: view.path, headers, ...(view.tls ? { servername: view.host, agent } : {}) },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', (e) => deny(res, 502, `upstream: ${e.message}`));
    req.pipe(up);
  };

  const server: HttpServer = createHttpServer({ keepAlive: true }, (req, res) => {
    let u: URL;
    try {
      u = new URL(req.url ?? '');
    } catch {
      return deny(res, 400, 'absolute URL expected');
    }
    const view: RequestView = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), method: req.method ?? 'GET', path: `${u.pathname}${u.search}`, headers: pairs(req.rawHeaders), tls: false };
    upstream(view, req, res);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '');
    if (!m) return client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const target = { host: m[1]!.toLowerCase(), port: Number(m[2]) };
    const port = opts.resolve(target.host, target.port);
    if (port === undefined) return client.end('HTTP/1.1 403 Forbidden\r\nX-Airlock-Deny: host not allowed\r\n\r\n');
    client.on('error', () => client.destroy());
    if (opts.interceptor?.wantsTermination(target.host, target.port)) {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) client.unshift(head);
      opts.interceptor.terminate(client, target, (ireq, ires, t) => {
        upstream({ host: t.host, port: t.port, method: ireq.method ?? 'GET', path: ireq.url ?? '/', headers: pairs(ireq.rawHeaders), tls: true }, ireq, ires);
      });
      return;
    }
    const up = netConnect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        agent.destroy();
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface ClientResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One HTTPS request through the proxy: CONNECT host:port, TLS with `servername` (default host;
 * `false` = no SNI), trusting `ca`, then the request. `hostHeader` overrides Host.
 */
export function httpsViaProxy(o: {
  proxyPort: number;
  host: string;
  port: number;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  ca: string[];
  servername?: string | false;
  hostHeader?: string;
  body?: string;
}): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const connectReq = httpRequest({ host: '127.0.0.1', port: o.proxyPort, method: 'CONNECT', path: `${o.host}:${o.port}`, headers: { Host: `${o.host}:${o.port}` }, agent: false });
    connectReq.on('error', reject);
    connectReq.on('response', (r) => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: '' }));
    connectReq.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        return resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
      }
      const ip = isIP(o.host) !== 0;
      const tlsSock =
        o.servername === false || ip
          ? tlsConnect({ socket, ca: o.ca, checkServerIdentity: (_h, cert) => checkServerIdentity(o.host, cert) })
          : tlsConnect({ socket, ca: o.ca, servername: o.servername ?? o.host, checkServerIdentity: (_h, cert) => checkServerIdentity(o.host, cert) });
      tlsSock.on('error', reject);
      const req = httpRequest(
        {
          createConnection: () => tlsSock,
          method: o.method ?? 'GET',
          path: o.path ?? '/',
          headers: { Host: o.hostHeader ?? (o.port === 443 ? o.host : `${o.host}:${o.port}`), ...(o.headers ?? {}) },
        },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => {
            tlsSock.destroy();
            resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      req.on('error', reject);
      req.end(o.body);
    });
    connectReq.end();
  });
}

/** One plain-HTTP request through the proxy (absolute-form URL). */
export function httpViaProxy(o: { proxyPort: number; url: string; method?: string; headers?: Record<string, string> }): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: o.proxyPort, method: o.method ?? 'GET', path: o.url, headers: o.headers ?? {}, agent: false }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}
