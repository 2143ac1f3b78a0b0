/**
 * A minimal protobuf wire-format decoder (proto3): enough to read gVisor's trace-point messages
 * without generated code. `decode` returns the fields of one message by number; nested messages
 * are length-delimited bytes decoded again on demand. Varints are read as bigint-safe numbers
 * (values above 2^53 lose precision, which is fine for times and ids here).
 */

export type WireValue = { wire: 0; n: bigint } | { wire: 1; n: bigint } | { wire: 2; b: Buffer } | { wire: 5; n: number };

export class ProtoError extends Error {}

export type Fields = Map<number, WireValue[]>;

export function readVarint(buf: Buffer, pos: number): [bigint, number] {
  // fast path: up to 7 bytes (49 bits) in plain numbers; BigInt only for longer varints
  let lo = 0;
  let mul = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= buf.length) throw new ProtoError('truncated varint');
    const b = buf[pos++]!;
    lo += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [BigInt(lo), pos];
    mul *= 128;
  }
  let result = BigInt(lo);
  let shift = 49n;
  for (let i = 7; i < 10; i++) {
    if (pos >= buf.length) throw new ProtoError('truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [BigInt.asUintN(64, result), pos];
    shift += 7n;
  }
  throw new ProtoError('varint longer than 10 bytes');
}

export function decode(buf: Buffer): Fields {
  const out: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new ProtoError('field number 0');
    let v: WireValue;
    if (wire === 0) {
      const [n, p] = readVarint(buf, pos);
      pos = p;
      v = { wire: 0, n };
    } else if (wire === 1) {
      if (pos + 8 > buf.length) throw new ProtoError('truncated fixed64');
      v = { wire: 1, n: buf.readBigUInt64LE(pos) };
      pos += 8;
    } else if (wire === 2) {
      const [len, p] = readVarint(buf, pos);
      const l = Number(len);
      if (p + l > buf.length) throw new ProtoError('truncated length-delimited field');
      v = { wire: 2, b: buf.subarray(p, p + l) };
      pos = p + l;
    } else if (wire === 5) {
      if (pos + 4 > buf.length) throw new ProtoError('truncated fixed32');
      v = { wire: 5, n: buf.readUInt32LE(pos) };
      pos += 4;
    } else throw new ProtoError(`unsupported wire type ${wire}`);
    const list = out.get(field);
    if (list) list.push(v);
    else out.set(field, [v]);
  }
  return out;
}

function last(f: Fields, n: number): WireValue | undefined {
  const l = f.get(n);
  return l ? l[l.length - 1] : undefined;
}

/** An unsigned varint field (uint32/uint64/int64 as two's complement). */
export function uint(f: Fields, n: number): bigint {
  const v = last(f, n);
  return v && (v.wire === 0 || v.wire === 1) ? v.n : v && v.wire === 5 ? BigInt(v.n) : 0n;
}

/** int32/int64 fields (varint, two's complement over 64 bits). */
export function int(f: Fields, n: number): number {
  return Number(BigInt.asIntN(64, uint(f, n)));
}

export function str(f: Fields, n: number): string {
  const v = last(f, n);
  return v && v.wire === 2 ? v.b.toString('utf8') : '';
}

export function bytes(f: Fields, n: number): Buffer {
  const v = last(f, n);
  return v && v.wire === 2 ? v.b : Buffer.alloc(0);
}

export function strs(f: Fields, n: number): string[] {
  return (f.get(n) ?? []).filter((v): v is { wire: 2; b: Buffer } => v.wire === 2).map((v) => v.b.toString('utf8'));
}

export function msg(f: Fields, n: number): Fields {
  const v = last(f, n);
  return v && v.wire === 2 ? decode(v.b) : new Map();
}

/** Encoders, for tests and the handshake. */
export function encVarint(n: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

export function encField(field: number, value: bigint | number | string | Buffer): Buffer {
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const b = typeof value === 'string' ? Buffer.from(value) : value;
    return Buffer.concat([encVarint((field << 3) | 2), encVarint(b.length), b]);
  }
  return Buffer.concat([encVarint(field << 3), encVarint(value)]);
}
