import { isUtf8 } from 'node:buffer';
import protobuf from 'protobufjs';

/**
 * Protobuf wire helpers for the OTLP messages firetap reads and writes without materialising them
 * as objects. Field numbers are those of the published OTLP protos (opentelemetry-proto v1);
 * `test/unit/otlp/schema.test.ts` cross-checks them against @opentelemetry/otlp-transformer.
 */
export const { Reader, Writer } = protobuf;
export type Reader = protobuf.Reader;
export type Writer = protobuf.Writer;

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** The tag byte(s) of a field: (number << 3) | wire type. */
export const tag = (field: number, wireType: number): number => ((field << 3) | wireType) >>> 0;

export class WireError extends Error {
  override name = 'WireError';
}

/**
 * Reads the next length-delimited field's bounds after its tag was read, checking the length
 * against the bytes that are left before anything is sliced.
 */
export function readLenBounds(r: Reader, end: number): number {
  const len = r.uint32();
  const stop = r.pos + len;
  if (len < 0 || stop > end) throw new WireError(`field length ${len} at byte ${r.pos} runs past the end of its message (${end - r.pos} bytes left)`);
  return stop;
}

/** Skips the field whose tag was just read and returns the position where the field ended. */
export function skipField(r: Reader, wireType: number, end: number): void {
  if (wireType === WIRE_LEN) {
    r.pos = readLenBounds(r, end);
    return;
  }
  r.skipType(wireType);
  if (r.pos > end) throw new WireError(`field at byte ${r.pos} runs past the end of its message`);
}

/**
 * protobufjs's Writer grows its buffer with `_reserve(n)`; it has no public way to append a range of
 * another buffer without first making a view of it, which costs an allocation per copied field. The
 * private method is checked once here so that a protobufjs that lacks it fails at load, not silently.
 */
type ReservingWriter = Writer & { _reserve(n: number): void; buf: Uint8Array };
if (typeof (Writer.prototype as Partial<ReservingWriter>)._reserve !== 'function') {
  throw new Error('protobufjs Writer has no _reserve(): firetap needs protobufjs 8.x');
}

/** Appends bytes [start, end) of `src` to the writer, without a temporary view. */
export function copyRange(w: Writer, src: Uint8Array, start: number, end: number): void {
  const len = end - start;
  if (len <= 0) return;
  (w as ReservingWriter)._reserve(len);
  const dst = (w as ReservingWriter).buf;
  if (len < 48) {
    // Most copied fields are a few bytes: a loop beats any call.
    for (let i = start, p = w.pos; i < end; i++, p++) dst[p] = src[i]!;
  } else {
    Buffer.prototype.copy.call(src, dst, w.pos, start, end);
  }
  w.pos += len;
}

/** Copies the bytes of the field that started at `start` (its tag included) up to the reader's position. */
export function copyFieldSince(r: Reader, start: number, w: Writer): void {
  copyRange(w, r.buf, start, r.pos);
}

/**
 * Writes `millis` as a fixed64 count of nanoseconds, exactly: a double cannot hold ms × 10⁶ (≈ 2⁶¹), so the
 * product is formed from 16-bit halves whose partial products all fit in 53 bits.
 */
export function writeFixed64Nanos(w: Writer, millis: number): void {
  const ms = Math.trunc(millis);
  if (ms < 0 || ms > 2 ** 42) {
    const nanos = BigInt(ms) * 1_000_000n;
    w.fixed32(Number(nanos & 0xffffffffn)).fixed32(Number((nanos >> 32n) & 0xffffffffn));
    return;
  }
  const high = Math.floor(ms / 65536);
  const low = ms - high * 65536;
  const t1 = low * 1_000_000; // < 2^36
  const t2 = high * 1_000_000; // < 2^46
  const lowPart = (t2 % 65536) * 65536 + t1; // < 2^37
  const lo = lowPart % 4294967296;
  const hi = Math.floor(t2 / 65536) + Math.floor(lowPart / 4294967296);
  w.fixed32(lo).fixed32(hi);
}

/** Encodes one KeyValue with a string value: { key = 1; value = 2 { string_value = 1 } }. */
export function encodeStringKeyValue(key: string, value: string): Uint8Array {
  const w = Writer.create();
  w.uint32(tag(1, WIRE_LEN)).string(key);
  w.uint32(tag(2, WIRE_LEN)).fork().uint32(tag(1, WIRE_LEN)).string(value).ldelim();
  return w.finish();
}

/**
 * Encodes one KeyValue of a scalar: strings as string_value (1), booleans as bool_value (2), safe
 * integers as int_value (3), other numbers as double_value (4).
 */
export function encodeKeyValue(key: string, value: string | number | boolean): Uint8Array {
  if (typeof value === 'string') return encodeStringKeyValue(key, value);
  const w = Writer.create();
  w.uint32(tag(1, WIRE_LEN)).string(key);
  w.uint32(tag(2, WIRE_LEN)).fork();
  if (typeof value === 'boolean') w.uint32(tag(2, WIRE_VARINT)).bool(value);
  else if (Number.isSafeInteger(value)) w.uint32(tag(3, WIRE_VARINT)).int64(value);
  else w.uint32(tag(4, WIRE_FIXED64)).double(value);
  w.ldelim();
  return w.finish();
}

/** Encodes one KeyValue whose value is an array of strings (the semantic conventions' `string[]`). */
export function encodeStringArrayKeyValue(key: string, values: readonly string[]): Uint8Array {
  const w = Writer.create();
  w.uint32(tag(1, WIRE_LEN)).string(key);
  w.uint32(tag(2, WIRE_LEN)).fork(); // AnyValue
  w.uint32(tag(5, WIRE_LEN)).fork(); // array_value: ArrayValue
  for (const v of values) w.uint32(tag(1, WIRE_LEN)).fork().uint32(tag(1, WIRE_LEN)).string(v).ldelim();
  w.ldelim().ldelim();
  return w.finish();
}

/** A resource attribute prepared once per request: its key (to test presence) and its encoded KeyValue. */
export interface EncodedAttribute {
  readonly key: string;
  readonly keyBytes: Uint8Array;
  readonly encoded: Uint8Array;
}

export function encodedAttribute(key: string, value: string): EncodedAttribute {
  return { key, keyBytes: Buffer.from(key, 'utf8'), encoded: encodeStringKeyValue(key, value) };
}

export function bytesEqual(buf: Uint8Array, start: number, end: number, other: Uint8Array): boolean {
  if (end - start !== other.length) return false;
  for (let i = 0; i < other.length; i++) if (buf[start + i] !== other[i]) return false;
  return true;
}

/** True when bytes [a0, a1) and [b0, b1) of one buffer are equal. */
export function rangesEqual(buf: Uint8Array, a0: number, a1: number, b0: number, b1: number): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  for (let i = 0; i < a1 - a0; i++) if (buf[a0 + i] !== buf[b0 + i]) return false;
  return true;
}

/** Where findKey found the key: reused, so that the hot path allocates nothing per attribute. */
export const foundKey = { start: 0, end: 0 };

/**
 * Finds the key of an encoded KeyValue spanning [start, end) and leaves its bounds in `foundKey`.
 * Encoders write the key first (field order), which is checked before falling back to a scan.
 */
export function findKey(r: Reader, start: number, end: number): boolean {
  const buf = r.buf;
  if (buf[start] === 0x0a && start + 1 < end && buf[start + 1]! < 0x80) {
    const keyEnd = start + 2 + buf[start + 1]!;
    if (keyEnd <= end) {
      foundKey.start = start + 2;
      foundKey.end = keyEnd;
      return true;
    }
  }
  const bounds = keyValueKeyBounds(r, start, end);
  if (!bounds) return false;
  foundKey.start = bounds[0];
  foundKey.end = bounds[1];
  return true;
}

/** Finds the key of an encoded KeyValue spanning [start, end): returns [keyStart, keyEnd] or undefined. */
export function keyValueKeyBounds(r: Reader, start: number, end: number): [number, number] | undefined {
  const saved = r.pos;
  r.pos = start;
  try {
    while (r.pos < end) {
      const t = r.uint32();
      if (t === tag(1, WIRE_LEN)) {
        const stop = readLenBounds(r, end);
        return [r.pos, stop];
      }
      skipField(r, t & 7, end);
    }
    return undefined;
  } finally {
    r.pos = saved;
  }
}

/**
 * Bounds of one field of the AnyValue of an encoded KeyValue spanning [start, end): KeyValue.value (2) →
 * AnyValue field `valueField` (1 string, 6 kvlist …), or undefined when the value is of another kind.
 */
export function anyValueFieldBounds(r: Reader, start: number, end: number, valueField: number): [number, number] | undefined {
  const saved = r.pos;
  r.pos = start;
  try {
    while (r.pos < end) {
      const t = r.uint32();
      if (t === tag(2, WIRE_LEN)) {
        const valueEnd = readLenBounds(r, end);
        while (r.pos < valueEnd) {
          const vt = r.uint32();
          if (vt === tag(valueField, WIRE_LEN)) {
            const fieldEnd = readLenBounds(r, valueEnd); // moves past the length: read the start after it
            return [r.pos, fieldEnd];
          }
          skipField(r, vt & 7, valueEnd);
        }
        return undefined;
      }
      skipField(r, t & 7, end);
    }
    return undefined;
  } finally {
    r.pos = saved;
  }
}

/** The string value of an encoded KeyValue spanning [start, end), or undefined if its value is not a string. */
export function keyValueStringValue(r: Reader, start: number, end: number): string | undefined {
  const bounds = anyValueFieldBounds(r, start, end, 1);
  return bounds && utf8(r, bounds[0], bounds[1]);
}

export function utf8(r: Reader, start: number, end: number): string {
  return Buffer.from(r.buf.buffer, r.buf.byteOffset + start, end - start).toString('utf8');
}

/**
 * Proto3 strings must be UTF-8, and strict decoders (Go's protobuf among them) refuse a message that
 * has an invalid one: checked for the strings firetap walks, ASCII in a loop, the rest natively.
 */
export function checkUtf8(buf: Uint8Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) {
      if (!isUtf8(buf.subarray(start, end))) throw new WireError(`string at byte ${start} is not valid UTF-8`);
      return;
    }
  }
}

/** Checks an encoded KeyValue: its key is UTF-8, its value (if a string, array or kvlist) too. */
export function checkKeyValue(r: Reader, start: number, end: number, depth = 0): void {
  const saved = r.pos;
  r.pos = start;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag(1, WIRE_LEN)) {
      const stop = readLenBounds(r, end);
      checkUtf8(r.buf, r.pos, stop);
      r.pos = stop;
    } else if (t === tag(2, WIRE_LEN)) {
      const stop = readLenBounds(r, end);
      checkAnyValue(r, r.pos, stop, depth + 1);
      r.pos = stop;
    } else if ((t >>> 3) === 1 || (t >>> 3) === 2) {
      throw new WireError(`KeyValue field ${t >>> 3} has wire type ${t & 7} at byte ${r.pos}`);
    } else {
      skipField(r, t & 7, end);
    }
  }
  r.pos = saved;
}

/** AnyValue { string 1; bool 2; int 3; double 4; array 5; kvlist 6; bytes 7 }: strings UTF-8, nesting bounded. */
function checkAnyValue(r: Reader, start: number, end: number, depth: number): void {
  if (depth > 16) throw new WireError('AnyValue nested too deep');
  r.pos = start;
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1 || field === 5 || field === 6 || field === 7) {
      if ((t & 7) !== WIRE_LEN) throw new WireError(`AnyValue field ${field} has wire type ${t & 7} at byte ${r.pos}`);
      const stop = readLenBounds(r, end);
      if (field === 1) checkUtf8(r.buf, r.pos, stop);
      else if (field === 5) checkRepeated(r, r.pos, stop, (s, e) => checkAnyValue(r, s, e, depth + 1));
      else if (field === 6) checkRepeated(r, r.pos, stop, (s, e) => checkKeyValue(r, s, e, depth + 1));
      r.pos = stop;
    } else {
      skipField(r, t & 7, end);
    }
  }
}

/** ArrayValue / KeyValueList: `values = 1`, each checked. */
function checkRepeated(r: Reader, start: number, end: number, check: (start: number, end: number) => void): void {
  r.pos = start;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag(1, WIRE_LEN)) {
      const stop = readLenBounds(r, end);
      check(r.pos, stop);
      r.pos = stop;
    } else {
      skipField(r, t & 7, end);
    }
  }
}
