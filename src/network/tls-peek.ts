/**
 * Reads the first bytes a client sends inside a CONNECT tunnel, to compare what it is about to
 * talk to with the CONNECT target: the TLS ClientHello's server_name (SNI), or the Host header of
 * a plain HTTP request. Nothing else is interpreted; an opaque protocol passes as `opaque`.
 */

export type Peek =
  | { kind: 'incomplete' }
  | { kind: 'tls'; sni?: string }
  | { kind: 'http'; host?: string }
  | { kind: 'opaque' }
  | { kind: 'malformed'; why: string };

const MAX_PEEK = 64 * 1024;

export function peekFirstBytes(buf: Buffer): Peek {
  if (buf.length === 0) return { kind: 'incomplete' };
  if (buf[0] === 0x16) return peekTls(buf);
  if (/^[A-Z]/.test(String.fromCharCode(buf[0]!))) {
    const text = buf.subarray(0, Math.min(buf.length, MAX_PEEK)).toString('latin1');
    const lineEnd = text.indexOf('\r\n');
    if (lineEnd < 0) {
      if (!/^[A-Z]{1,20}( |$)/.test(text)) return { kind: 'opaque' };
      return buf.length >= MAX_PEEK ? { kind: 'malformed', why: 'request line too long' } : { kind: 'incomplete' };
    }
    if (!/^[A-Z]+ \S+ HTTP\/\d\.\d$/.test(text.slice(0, lineEnd))) return { kind: 'opaque' };
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return buf.length >= MAX_PEEK ? { kind: 'malformed', why: 'headers too long' } : { kind: 'incomplete' };
    const hosts = text
      .slice(lineEnd + 2, end)
      .split('\r\n')
      .filter((l) => /^host\s*:/i.test(l))
      .map((l) => l.slice(l.indexOf(':') + 1).trim());
    if (hosts.length > 1) return { kind: 'malformed', why: 'duplicate Host header' };
    return { kind: 'http', host: hosts[0] };
  }
  return { kind: 'opaque' };
}

/** Concatenates handshake records until one full ClientHello is present, then finds SNI. */
function peekTls(buf: Buffer): Peek {
  const hs: Buffer[] = [];
  let off = 0;
  let have = 0;
  let need = -1;
  while (true) {
    if (buf.length < off + 5) return buf.length >= MAX_PEEK ? { kind: 'malformed', why: 'ClientHello too long' } : { kind: 'incomplete' };
    if (buf[off] !== 0x16) return { kind: 'malformed', why: 'TLS record is not a handshake' };
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > 16384 + 2048) return { kind: 'malformed', why: 'bad TLS record length' };
    if (buf.length < off + 5 + len) return buf.length >= MAX_PEEK ? { kind: 'malformed', why: 'ClientHello too long' } : { kind: 'incomplete' };
    hs.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const h = Buffer.concat(hs);
      if (h[0] !== 1) return { kind: 'malformed', why: 'first handshake message is not a ClientHello' };
      need = 4 + h.readUIntBE(1, 3);
      if (need > MAX_PEEK) return { kind: 'malformed', why: 'ClientHello too long' };
    }
    if (need >= 0 && have >= need) break;
  }
  const h = Buffer.concat(hs).subarray(4, need);
  try {
    return { kind: 'tls', sni: parseClientHelloSni(h) };
  } catch {
    return { kind: 'malformed', why: 'unparsable ClientHello' };
  }
}

function parseClientHelloSni(b: Buffer): string | undefined {
  let p = 2 + 32; // version, random
  const need = (n: number) => {
    if (p + n > b.length) throw new Error('short');
  };
  need(1);
  p += 1 + b[p]!; // session id
  need(2);
  p += 2 + b.readUInt16BE(p); // cipher suites
  need(1);
  p += 1 + b[p]!; // compression methods
  if (p === b.length) return undefined; // no extensions
  need(2);
  const extEnd = p + 2 + b.readUInt16BE(p);
  p += 2;
  if (extEnd > b.length) throw new Error('short');
  let sni: string | undefined;
  let seen = false;
  while (p < extEnd) {
    need(4);
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    p += 4;
    need(len);
    if (type === 0) {
      if (seen) throw new Error('two SNI extensions');
      seen = true;
      let q = p + 2;
      const listEnd = q + b.readUInt16BE(p);
      const names: string[] = [];
      while (q < listEnd) {
        const nameType = b[q]!;
        const nlen = b.readUInt16BE(q + 1);
        if (nameType === 0) names.push(b.subarray(q + 3, q + 3 + nlen).toString('latin1'));
        q += 3 + nlen;
      }
      if (names.length > 1) throw new Error('several host names in SNI');
      sni = names[0];
    }
    p += len;
  }
  return sni;
}
