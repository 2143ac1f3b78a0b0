/**
 * Response scrubbing for TLS-terminated connections: if the declared host reflects the injected
 * credential (an echo endpoint, an error page quoting the Authorization header), the real value
 * would travel back into the sandbox. The broker therefore wraps each terminated `ServerResponse`
 * so that every occurrence of a live value in response headers and in the (identity-encoded)
 * body is overwritten with a same-length mask before the bytes reach the client — same length, so
 * Content-Length and chunk framing stay right.
 *
 * Limits (documented, not hidden): compressed bodies (gzip/br) are passed through as they are —
 * a value inside them is not visible without decompressing; values split into pieces or
 * transformed by the server are not recognised.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** `[airlock:redacted]` cut or padded with `*` to `n` bytes. */
export function mask(n: number): Buffer {
  const tag = Buffer.from('[airlock:redacted]');
  if (n <= tag.length) return Buffer.alloc(n, '*');
  return Buffer.concat([tag, Buffer.alloc(n - tag.length, '*')]);
}

/** Replaces every needle in `buf` (in place on a copy) with its mask; returns the new buffer and the count. */
export function scrubBuffer(buf: Buffer, needles: Buffer[]): { out: Buffer; hits: number } {
  let out = buf;
  let hits = 0;
  for (const n of needles) {
    if (n.length === 0) continue;
    let i = out.indexOf(n);
    if (i < 0) continue;
    if (out === buf) out = Buffer.from(buf);
    const m = mask(n.length);
    while (i >= 0) {
      m.copy(out, i);
      hits++;
      i = out.indexOf(n, i + n.length);
    }
  }
  return { out, hits };
}

function scrubString(s: string, needles: string[]): { out: string; hits: number } {
  let hits = 0;
  let out = s;
  for (const n of needles) {
    if (!n || !out.includes(n)) continue;
    const parts = out.split(n);
    hits += parts.length - 1;
    out = parts.join(mask(Buffer.byteLength(n)).toString());
  }
  return { out, hits };
}

function scrubHeaderValue(v: unknown, needles: string[], count: (n: number) => void): unknown {
  if (typeof v === 'string') {
    const r = scrubString(v, needles);
    count(r.hits);
    return r.out;
  }
  if (Array.isArray(v)) return v.map((x) => scrubHeaderValue(x, needles, count));
  return v;
}

/**
 * Wraps `res` in place: header values and body bytes are scrubbed of `needles()` (evaluated once,
 * at the first write). `onHit` is called once per response that needed scrubbing.
 */
export function scrubResponse(res: ServerResponse, needles: () => string[], onHit: (count: number) => void): void {
  let list: string[] | undefined;
  let bufs: Buffer[] = [];
  let keep = 0;
  let total = 0;
  const get = () => {
    if (!list) {
      list = needles().filter((n) => n.length > 0);
      bufs = list.map((n) => Buffer.from(n));
      keep = Math.max(0, ...bufs.map((b) => b.length)) - 1;
    }
    return list;
  };
  const count = (n: number) => {
    total += n;
  };
  let tail = Buffer.alloc(0);
  let identity: boolean | undefined;
  const isIdentity = () => {
    if (identity === undefined) {
      const ce = res.getHeader('content-encoding');
      identity = ce === undefined || String(ce).trim().toLowerCase() === 'identity';
    }
    return identity;
  };

  const origSetHeader = res.setHeader.bind(res);
  res.setHeader = ((name: string, value: number | string | readonly string[]) => origSetHeader(name, scrubHeaderValue(value, get(), count) as string)) as typeof res.setHeader;

  const origWriteHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    const l = get();
    for (const a of rest) {
      if (Array.isArray(a)) {
        const flat = (a as unknown[]).flat() as unknown[];
        for (let i = 0; i + 1 < flat.length; i += 2) if (String(flat[i]).toLowerCase() === 'content-encoding') identity = String(flat[i + 1]).trim().toLowerCase() === 'identity';
      } else if (a && typeof a === 'object') {
        for (const [k, v] of Object.entries(a as OutgoingHttpHeaders)) if (k.toLowerCase() === 'content-encoding' && v !== undefined) identity = String(v).trim().toLowerCase() === 'identity';
      }
    }
    const args = rest.map((a) => {
      if (typeof a === 'string') return a; // status message
      if (Array.isArray(a)) return a.map((x) => scrubHeaderValue(x, l, count));
      if (a && typeof a === 'object') {
        const o: OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(a as OutgoingHttpHeaders)) o[k] = scrubHeaderValue(v, l, count) as OutgoingHttpHeaders[string];
        return o;
      }
      return a;
    });
    return origWriteHead(status, ...args);
  }) as typeof res.writeHead;

  const origWrite = res.write.bind(res) as (chunk: unknown, enc?: unknown, cb?: unknown) => boolean;
  const origEnd = res.end.bind(res) as (chunk?: unknown, enc?: unknown, cb?: unknown) => ServerResponse;
  const toBuf = (chunk: unknown, enc: unknown): Buffer | undefined => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return undefined;
    if (Buffer.isBuffer(chunk)) return chunk;
    if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    return Buffer.from(String(chunk), typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8');
  };

  res.write = ((chunk: unknown, enc?: unknown, cb?: unknown) => {
    const b = toBuf(chunk, enc);
    const callback = typeof enc === 'function' ? enc : cb;
    if (!b || !isIdentity() || get().length === 0) return origWrite(chunk, enc, cb);
    const joined = tail.length ? Buffer.concat([tail, b]) : b;
    const { out, hits } = scrubBuffer(joined, bufs);
    total += hits;
    const cut = Math.max(0, out.length - keep);
    tail = Buffer.from(out.subarray(cut));
    const now = out.subarray(0, cut);
    if (now.length === 0) {
      if (typeof callback === 'function') process.nextTick(callback as () => void);
      return true;
    }
    return origWrite(now, callback);
  }) as typeof res.write;

  res.end = ((chunk?: unknown, enc?: unknown, cb?: unknown) => {
    const callback = typeof chunk === 'function' ? chunk : typeof enc === 'function' ? enc : cb;
    const b = toBuf(chunk, enc);
    let rest: Buffer | undefined;
    if (isIdentity() && get().length > 0) {
      const joined = Buffer.concat([tail, b ?? Buffer.alloc(0)]);
      tail = Buffer.alloc(0);
      const r = scrubBuffer(joined, bufs);
      total += r.hits;
      rest = r.out;
    } else rest = b;
    if (total > 0) onHit(total);
    if (rest && rest.length) return origEnd(rest, callback);
    return origEnd(callback);
  }) as typeof res.end;
}
