/**
 * A minimal DER (ASN.1 Distinguished Encoding Rules) encoder: just the types an X.509 v3
 * certificate needs. node:crypto parses and verifies certificates but cannot build them, and no
 * dependency may be added, so the session CA writes its certificates with these helpers.
 *
 * Every function returns the complete TLV (tag, length, value) as a Buffer, so encodings nest:
 * ```ts
 * seq(oid('2.5.4.3'), utf8('airlock'))   // SEQUENCE { OID commonName, UTF8String "airlock" }
 * ```
 */

/** Encodes one TLV with a definite length (short form below 128 bytes, long form above). */
export function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
export const octets = (b: Buffer): Buffer => tlv(0x04, b);
export const nul = (): Buffer => tlv(0x05, Buffer.alloc(0));
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const ia5 = (s: string): Buffer => {
  if (!/^[\x00-\x7f]*$/.test(s)) throw new Error(`IA5String must be ASCII: ${JSON.stringify(s)}`);
  return tlv(0x16, Buffer.from(s, 'ascii'));
};

/** [n] EXPLICIT: a constructed context-specific wrapper around a complete TLV. */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);
/** [n] IMPLICIT primitive: the context tag replaces the universal tag of `content`'s type. */
export const implicit = (n: number, content: Buffer): Buffer => tlv(0x80 | n, content);

/** A non-negative INTEGER from a number, bigint or big-endian magnitude bytes. */
export function int(v: number | bigint | Buffer): Buffer {
  let b: Buffer;
  if (Buffer.isBuffer(v)) b = Buffer.from(v);
  else {
    let x = BigInt(v);
    if (x < 0n) throw new Error('int: negative integers are not needed here');
    const bytes: number[] = [];
    do {
      bytes.unshift(Number(x & 0xffn));
      x >>= 8n;
    } while (x > 0n);
    b = Buffer.from(bytes);
  }
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++; // minimal encoding
  b = b.subarray(i);
  if (b.length === 0) b = Buffer.from([0]);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]); // keep it positive
  return tlv(0x02, b);
}

/** OBJECT IDENTIFIER from dotted text, e.g. `2.5.29.17`. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new Error(`oid: bad arc in ${dotted}`);
    return BigInt(a);
  });
  if (arcs.length < 2) throw new Error(`oid: need at least two arcs: ${dotted}`);
  const out: number[] = [];
  const base128 = (v: bigint) => {
    const chunk: number[] = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...chunk);
  };
  base128(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) base128(a);
  return tlv(0x06, Buffer.from(out));
}

/** BIT STRING holding whole bytes (e.g. a public key or a signature): zero unused bits. */
export const bitsBytes = (b: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));

/**
 * BIT STRING of named bits (bit 0 = most significant bit of the first byte), DER-minimal:
 * trailing zero bits are dropped and counted as unused (RFC 5280 KeyUsage).
 */
export function namedBits(bits: number[]): Buffer {
  if (bits.length === 0) return tlv(0x03, Buffer.from([0]));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[Math.floor(bit / 8)]! |= 0x80 >> bit % 8;
  const unused = 7 - (highest % 8);
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** UTCTime for years 1950–2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). Seconds precision. */
export function time(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`, 'ascii'));
  return tlv(0x18, Buffer.from(`${p(y, 4)}${rest}`, 'ascii'));
}
