/**
 * A minimal protobuf wire-format decoder (proto3): enough to read gVisor's trace-point messages
 * without generated code. `decode` returns the fields of one message by number; nested messages
 * are length-delimited bytes decoded again on demand. Varints are plain numbers up to 2^53 and
 * exact bigints beyond (times in nanoseconds, negative int64): no BigInt work on the common path.
 */

/** Varints up to 2^53 are plain numbers; only longer ones (times in ns, negative int64) are bigints. */
export type WireValue = { wire: 0; n: number | bigint } | { wire: 1; n: bigint } | { wire: 2; b: Buffer } | { wire: 5; n: number };

export class ProtoError extends Error {}

export type Fields = Map<number, WireValue[]>;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Where the last `varint` call stopped (a module cursor: no tuple allocated per read). */
let at = 0;

function varint(buf: Buffer, pos: number): number | bigint {
  // up to 7 bytes (49 bits) in plain numbers; BigInt only for the rare longer varints
  let lo = 0;
  let mul = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= buf.length) throw new ProtoError('truncated varint');
    const b = buf[pos++]!;
    lo += (b & 0x7f) * mul;
    if (b < 0x80) {
      at = pos;
      return lo;
    }
    mul *= 128;
  }
  let result = BigInt(lo);
  let shift = 49n;
  for (let i = 7; i < 10; i++) {
    if (pos >= buf.length) throw new ProtoError('truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) {
      at = pos;
      const v = BigInt.asUintN(64, result);
      return v <= MAX_SAFE ? Number(v) : v;
    }
    shift += 7n;
  }
  throw new ProtoError('varint longer than 10 bytes');
}

/** Reads one varint at `pos`: its value (as an unsigned 64-bit bigint) and the position after it. */
export function readVarint(buf: Buffer, pos: number): [bigint, number] {
  const v = varint(buf, pos);
  return [typeof v === 'bigint' ? v : BigInt(v), at];
}

/** The field number of the last `readField` (a module cursor, like `at`). */
let fieldNo = 0;

/** Reads the field (key and value) at `pos`: sets `fieldNo`, and `at` to the position after it. */
function readField(buf: Buffer, pos: number, end: number): WireValue {
  const key = varint(buf, pos);
  pos = at;
  if (typeof key !== 'number') throw new ProtoError('field number out of range');
  fieldNo = Math.floor(key / 8);
  const wire = key & 7;
  if (fieldNo === 0) throw new ProtoError('field number 0');
  if (wire === 0) return { wire: 0, n: varint(buf, pos) };
  if (wire === 2) {
    const len = varint(buf, pos);
    if (typeof len !== 'number' || at + len > end) throw new ProtoError('truncated length-delimited field');
    const b = buf.subarray(at, at + len);
    at += len;
    return { wire: 2, b };
  }
  if (wire === 1) {
    if (pos + 8 > end) throw new ProtoError('truncated fixed64');
    at = pos + 8;
    return { wire: 1, n: buf.readBigUInt64LE(pos) };
  }
  if (wire === 5) {
    if (pos + 4 > end) throw new ProtoError('truncated fixed32');
    at = pos + 4;
    return { wire: 5, n: buf.readUInt32LE(pos) };
  }
  throw new ProtoError(`unsupported wire type ${wire}`);
}

/** The fields of one message by number. Nested messages stay bytes until `msg` is asked for them. */
export function decode(buf: Buffer): Fields {
  const out: Fields = new Map();
  for (let pos = 0; pos < buf.length; pos = at) {
    const v = readField(buf, pos, buf.length);
    const list = out.get(fieldNo);
    if (list) list.push(v);
    else out.set(fieldNo, [v]);
  }
  return out;
}

/**
 * The last value of field `n` of a message, without building its field map (for the hot path,
 * which often needs one number to decide whether the rest is worth decoding): a number (bigint
 * beyond 2^53) or, for a length-delimited field, its bytes. Reads the message like `decode`, so a
 * malformed message throws here too.
 */
export function peekField(buf: Buffer, n: number): number | bigint | Buffer | undefined {
  let found: number | bigint | Buffer | undefined;
  for (let pos = 0; pos < buf.length; pos = at) {
    const v = readField(buf, pos, buf.length);
    if (fieldNo === n) found = v.wire === 2 ? v.b : v.n;
  }
  return found;
}

/** `peekField` of an int32/int64 varint field, as `int` reads it (0 when absent). */
export function peekInt(buf: Buffer, n: number): number {
  const v = peekField(buf, n);
  if (typeof v === 'number') return v;
  return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : 0;
}

function last(f: Fields, n: number): WireValue | undefined {
  const l = f.get(n);
  return l ? l[l.length - 1] : undefined;
}

/** An unsigned varint field (uint32/uint64/int64 as two's complement). */
export function uint(f: Fields, n: number): bigint {
  const v = last(f, n);
  if (!v || v.wire === 2) return 0n;
  return typeof v.n === 'bigint' ? v.n : BigInt(v.n);
}

/** int32/int64 fields (varint, two's complement over 64 bits). */
export function int(f: Fields, n: number): number {
  const v = last(f, n);
  if (!v || v.wire === 2) return 0;
  return typeof v.n === 'number' ? v.n : Number(BigInt.asIntN(64, v.n));
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
  const out: string[] = [];
  for (const v of f.get(n) ?? []) if (v.wire === 2) out.push(v.b.toString('utf8'));
  return out;
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
