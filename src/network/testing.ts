/**
 * Test helpers for the proxy (real loopback sockets only): an echo upstream, a raw client that
 * sends exact bytes, and a fixed-table resolver. Used by src/network tests, test/e2e/network* and
 * test/attacks/network*; not part of the module's runtime surface.
 */
import http from 'node:http';
import net from 'node:net';
import type { Resolver } from './guard.js';

export interface EchoServer {
  port: number;
  /** Connections accepted so far. */
  connections: () => number;
  /** Bytes received on raw connections (for tunnels). */
  received: () => Buffer;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering JSON {method, url, headers, body}. */
export async function startEchoServer(): Promise<EchoServer> {
  let conns = 0;
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.rawHeaders, body: Buffer.concat(chunks).toString('latin1') });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  const sockets = new Set<net.Socket>();
  srv.on('connection', (s) => {
    conns++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    connections: () => conns,
    received: () => Buffer.alloc(0),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** A raw TCP server on 127.0.0.1 that records what it receives and optionally answers. */
export async function startRawServer(answer?: (data: Buffer, sock: net.Socket) => void): Promise<EchoServer> {
  let conns = 0;
  const got: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    conns++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.on('data', (d) => {
      got.push(d);
      answer?.(d, s);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    connections: () => conns,
    received: () => Buffer.concat(got),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** true when the proxy closed the connection right after (or without) a response. */
  closed: boolean;
  raw: string;
}

/**
 * Sends `data` on a fresh connection to `target` (a TCP port on 127.0.0.1 or a unix socket path)
 * and reads one HTTP response (status 0 when the connection closed without one).
 */
export function rawRequest(target: number | string, data: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const s = typeof target === 'number' ? net.connect(target, '127.0.0.1') : net.connect(target);
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ ...parseResponse(buf), closed, raw: buf.toString('latin1') });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    s.on('connect', () => s.write(data));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const p = parseResponse(buf);
      if (p.complete) finish(false);
    });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
  });
}

function parseResponse(buf: Buffer): { status: number; headers: Record<string, string>; body: string; complete: boolean } {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '', complete: false };
  const lines = text.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  const body = text.slice(end + 4);
  const cl = headers['content-length'];
  const complete = status === 200 && cl === undefined ? false : cl !== undefined ? Buffer.byteLength(body, 'latin1') >= Number(cl) : false;
  return { status, headers, body, complete };
}

/** A resolver with a fixed table; unknown names fail with ENOTFOUND. */
export function tableResolver(table: Record<string, string[]>): Resolver {
  return async (host) => {
    const a = table[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

/** Opens a CONNECT tunnel; resolves with the socket after `200`, or the refusal. */
export function connectTunnel(proxyPort: number, authority: string, extraHeaders = ''): Promise<{ ok: true; socket: net.Socket } | { ok: false; res: RawResponse }> {
  return new Promise((resolve) => {
    const s = net.connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extraHeaders}\r\n`));
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      if (/^HTTP\/1\.1 200/.test(text)) {
        const rest = buf.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
        if (rest.length) s.unshift(rest);
        resolve({ ok: true, socket: s });
      } else {
        s.on('data', (more) => (buf = Buffer.concat([buf, more])));
        s.on('close', () => resolve({ ok: false, res: { ...parseResponse(buf), closed: true, raw: buf.toString('latin1') } }));
      }
    };
    s.on('data', onData);
    s.on('error', () => resolve({ ok: false, res: { status: 0, headers: {}, body: '', closed: true, raw: '' } }));
  });
}
