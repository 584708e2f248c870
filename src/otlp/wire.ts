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
 * against the bytes that are left before anything is sliced (readLen, for callers that keep their
 * position in the Reader).
 */
export function readLenBounds(r: Reader, end: number): number {
  const stop = readLen(r.buf, r.pos, end);
  r.pos = cursor.pos;
  return stop;
}

/** Skips the field whose tag was just read (skipValue, for callers that keep their position in the Reader). */
export function skipField(r: Reader, wireType: number, end: number): void {
  r.pos = skipValue(r, r.pos, wireType, end);
}

/**
 * protobufjs's Writer grows its buffer with `_reserve(n)`; it has no public way to append a range of
 * another buffer without first making a view of it, which costs an allocation per copied field. The
 * private method is checked once here so that a protobufjs that lacks it fails at load, not silently.
 */
type ReservingWriter = Writer & { _reserve(n: number): void; buf: Uint8Array; view: DataView | null };
if (typeof (Writer.prototype as Partial<ReservingWriter>)._reserve !== 'function') {
  throw new Error('protobufjs Writer has no _reserve(): firetap needs protobufjs 8.x');
}

/**
 * Appends bytes [start, end) of `src` to the writer, without a temporary view. Most copied fields are a few
 * dozen bytes: those go four bytes at a time through DataViews (the writer's own, which protobufjs drops when
 * it grows its buffer; the source's, kept by viewOf), ~2.5× faster than a byte loop at 35 bytes; a call to
 * Buffer.copy costs ~43 ns whatever the length, and pays only beyond ~100 bytes.
 */
export function copyRange(w: Writer, src: Uint8Array, start: number, end: number): void {
  const len = end - start;
  if (len <= 0) return;
  (w as ReservingWriter)._reserve(len);
  const dst = (w as ReservingWriter).buf;
  let p = w.pos;
  if (len < 8) {
    for (let i = start; i < end; i++, p++) dst[p] = src[i]!;
  } else if (len < 100) {
    const from = viewOf(src);
    const to = (w as ReservingWriter).view ?? ((w as ReservingWriter).view = new DataView(dst.buffer, dst.byteOffset, dst.byteLength));
    let i = start;
    for (; i + 4 <= end; i += 4, p += 4) to.setInt32(p, from.getInt32(i, true), true);
    for (; i < end; i++, p++) dst[p] = src[i]!;
  } else {
    Buffer.prototype.copy.call(src, dst, p, start, end);
  }
  w.pos += len;
}

/**
 * A DataView over the buffer last asked for, kept for the next call with the same buffer (the hot paths ask
 * with one record's buffer data point after data point): made once per record, not once per field.
 */
let viewed: Uint8Array | undefined;
let view: DataView = new DataView(new ArrayBuffer(0));
export function viewOf(buf: Uint8Array): DataView {
  if (buf !== viewed) {
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    viewed = buf;
  }
  return view;
}

/**
 * Appends all of `bytes` (unlike Writer.raw, with no length check beyond the buffer's growth: the hot path's).
 * TypedArray.set takes ~14 ns for 200 bytes, but into shared memory (a decode thread's output) V8 copies with
 * relaxed atomic stores, byte by byte unless both sides are aligned alike: ~54 ns. There it goes through
 * Buffer.copy of a range of the whole underlying buffer, which Node does with memcpy (~33 ns) — of a view
 * given whole, Buffer.copy calls TypedArray.set itself.
 */
export function writeBytes(w: Writer, bytes: Uint8Array): void {
  (w as ReservingWriter)._reserve(bytes.length);
  const dst = (w as ReservingWriter).buf;
  if (dst.buffer instanceof SharedArrayBuffer) Buffer.prototype.copy.call(wholeBufferOf(bytes), dst, w.pos, bytes.byteOffset, bytes.byteOffset + bytes.length);
  else dst.set(bytes, w.pos);
  w.pos += bytes.length;
}

/** A Buffer over all of the ArrayBuffer `bytes` lies in, kept for the next call with a view of the same one. */
let wholeOfBuffer: ArrayBufferLike | undefined;
let whole: Buffer = Buffer.alloc(0);
function wholeBufferOf(bytes: Uint8Array): Buffer {
  if (bytes.buffer !== wholeOfBuffer) {
    whole = Buffer.from(bytes.buffer);
    wholeOfBuffer = bytes.buffer;
  }
  return whole;
}

/** Bytes a varint of `value` (< 2³²) takes. */
export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/**
 * Opens a length-delimited field whose contents will be about `expected` bytes long (a rewritten message
 * rarely changes the size of its length prefix): writes the tag, reserves that many bytes for the length
 * and returns where the length goes. `closeField` writes it — shifting the contents only when the guess
 * was wrong, where protobufjs's fork/ldelim reserve one byte and shift every message of 128 bytes or more.
 */
export function openField(w: Writer, fieldTag: number, expected: number): number {
  w.uint32(fieldTag);
  const size = varintSize(expected);
  (w as ReservingWriter)._reserve(size);
  const lenPos = w.pos;
  w.pos += size;
  return lenPos;
}

/** Closes a field opened with `openField(w, tag, expected)` (same `expected`): writes its length. */
export function closeField(w: Writer, lenPos: number, expected: number): void {
  const reserved = varintSize(expected);
  const contentStart = lenPos + reserved;
  let len = w.pos - contentStart;
  const size = varintSize(len);
  if (size !== reserved) {
    if (size > reserved) (w as ReservingWriter)._reserve(size - reserved);
    (w as ReservingWriter).buf.copyWithin(lenPos + size, contentStart, contentStart + len);
    w.pos += size - reserved;
  }
  const buf = (w as ReservingWriter).buf;
  let p = lenPos;
  while (len > 0x7f) {
    buf[p++] = (len & 0x7f) | 0x80;
    len >>>= 7;
  }
  buf[p] = len;
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
  scanKeyValue(r, start, end);
  if (keyValue.keyStart < 0) return false;
  foundKey.start = keyValue.keyStart;
  foundKey.end = keyValue.keyEnd;
  return true;
}

/** The string value of the KeyValue `scanKeyValue` read last, or undefined when its value is not a string. */
export function scannedString(r: Reader): string | undefined {
  return keyValue.stringStart < 0 ? undefined : utf8(r, keyValue.stringStart, keyValue.stringEnd);
}

export function utf8(r: Reader, start: number, end: number): string {
  return Buffer.from(r.buf.buffer, r.buf.byteOffset + start, end - start).toString('utf8');
}

/**
 * Proto3 strings must be UTF-8, and strict decoders (Go's protobuf among them) refuse a message that
 * has an invalid one: checked for the strings firetap walks, ASCII in a loop, the rest natively.
 */
export function checkUtf8(buf: Uint8Array, start: number, end: number): void {
  let high = 0;
  for (let i = start; i < end; i++) high |= buf[i]!;
  if (high >= 0x80 && !isUtf8(buf.subarray(start, end))) throw new WireError(`string at byte ${start} is not valid UTF-8`);
}

/**
 * The hot paths read tags and lengths with these rather than through a Reader: a local position and a
 * one-byte fast path (nearly every tag and most lengths in OTLP are one byte). `cursor.pos` is where the
 * last varint ended — module state, so that a read allocates nothing.
 */
export const cursor = { pos: 0 };

/** Reads the varint at `p` (as protobuf's uint32: bits above 32 dropped) and leaves the position after it in `cursor.pos`. */
export function readVarint(buf: Uint8Array, p: number, end: number): number {
  if (p < end) {
    const b = buf[p]!;
    if (b < 0x80) {
      cursor.pos = p + 1;
      return b;
    }
  }
  return readVarintSlow(buf, p, end);
}

function readVarintSlow(buf: Uint8Array, p: number, end: number): number {
  let value = 0;
  for (let i = 0; i < 10; i++, p++) {
    if (p >= end) throw new WireError(`varint at byte ${p} runs past the end of its message`);
    const b = buf[p]!;
    if (i < 5) value |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      cursor.pos = p + 1;
      return value >>> 0;
    }
  }
  throw new WireError(`varint at byte ${p} is longer than 10 bytes`);
}

/** Reads a length at `p`: returns where the field's contents end, `cursor.pos` where they start. */
export function readLen(buf: Uint8Array, p: number, end: number): number {
  const len = readVarint(buf, p, end);
  const start = cursor.pos;
  const stop = start + len;
  if (stop > end) throw new WireError(`field length ${len} at byte ${start} runs past the end of its message (${end - start} bytes left)`);
  return stop;
}

/** Skips the value of a field of wire type `wireType` starting at `p`: returns the position after it. */
export function skipValue(r: Reader, p: number, wireType: number, end: number): number {
  const buf = r.buf;
  if (wireType === WIRE_LEN) return readLen(buf, p, end);
  let after: number;
  if (wireType === WIRE_VARINT) {
    after = p;
    while (after < end && buf[after]! >= 0x80 && after - p < 10) after++;
    if (after >= end || after - p >= 10) throw new WireError(`varint at byte ${p} runs past the end of its message`);
    after++;
  } else if (wireType === WIRE_FIXED64) {
    after = p + 8;
  } else if (wireType === WIRE_FIXED32) {
    after = p + 4;
  } else {
    // Groups (deprecated, never OTLP) and invalid wire types: the Reader's own rules.
    r.pos = p;
    r.skipType(wireType);
    after = r.pos;
  }
  if (after > end) throw new WireError(`field at byte ${p} runs past the end of its message`);
  return after;
}

/**
 * What `scanKeyValue` found in the KeyValue it checked: the bounds of its key and, when the value is a
 * string or a kvlist, of that string or list (-1 when absent). Reused: the hot path allocates nothing.
 */
export const keyValue = { keyStart: -1, keyEnd: -1, stringStart: -1, stringEnd: -1, kvlistStart: -1, kvlistEnd: -1 };

/**
 * Checks an encoded KeyValue in one pass — its key is UTF-8, its value (if a string, array or kvlist) too —
 * and leaves in `keyValue` where its key and its string or kvlist value are (the first of each).
 */
export function scanKeyValue(r: Reader, start: number, end: number): void {
  keyValue.kvlistStart = keyValue.kvlistEnd = -1;
  if (stringKeyValue(r.buf, start, end, true)) return;
  keyValue.stringStart = keyValue.stringEnd = -1;
  keyValue.keyStart = keyValue.keyEnd = -1;
  const saved = r.pos;
  walkKeyValue(r, start, end, 0, true);
  r.pos = saved;
}

/**
 * The KeyValue every encoder writes for a string attribute — { key = 1; value = 2 { string_value = 1 } }, in
 * that order, with lengths of one byte — checked (both strings UTF-8) and located in `keyValue` without the
 * general walk. False, with nothing checked, for any other layout.
 */
function stringKeyValue(buf: Uint8Array, start: number, end: number, record: boolean): boolean {
  if (start + 6 > end || buf[start] !== KEY_TAG) return false;
  const keyLength = buf[start + 1]!;
  const keyEnd = start + 2 + keyLength;
  if (keyLength >= 0x80 || keyEnd + 4 > end || buf[keyEnd] !== VALUE_TAG || buf[keyEnd + 2] !== KEY_TAG) return false;
  const valueLength = buf[keyEnd + 1]!;
  const stringLength = buf[keyEnd + 3]!;
  if (valueLength >= 0x80 || stringLength >= 0x80 || valueLength !== end - keyEnd - 2 || stringLength !== end - keyEnd - 4) return false;
  checkUtf8(buf, start + 2, keyEnd);
  checkUtf8(buf, keyEnd + 4, end);
  if (record) {
    keyValue.keyStart = start + 2;
    keyValue.keyEnd = keyEnd;
    keyValue.stringStart = keyEnd + 4;
    keyValue.stringEnd = end;
  }
  return true;
}

/** Checks an encoded KeyValue: its key is UTF-8, its value (if a string, array or kvlist) too. */
export function checkKeyValue(r: Reader, start: number, end: number): void {
  const saved = r.pos;
  walkKeyValue(r, start, end, 0, false);
  r.pos = saved;
}

function walkKeyValue(r: Reader, start: number, end: number, depth: number, record: boolean): void {
  const buf = r.buf;
  let p = start;
  let sawValue = false;
  while (p < end) {
    const fieldStart = p;
    const t = readVarint(buf, p, end);
    p = cursor.pos;
    if (t === KEY_TAG) {
      const stop = readLen(buf, p, end);
      p = cursor.pos;
      checkUtf8(buf, p, stop);
      if (record && keyValue.keyStart < 0) {
        keyValue.keyStart = p;
        keyValue.keyEnd = stop;
      }
      p = stop;
    } else if (t === VALUE_TAG) {
      const stop = readLen(buf, p, end);
      p = cursor.pos;
      walkAnyValue(r, p, stop, depth + 1, record && !sawValue);
      sawValue = true;
      p = stop;
    } else if (t >>> 3 === 1 || t >>> 3 === 2) {
      throw new WireError(`KeyValue field ${t >>> 3} has wire type ${t & 7} at byte ${fieldStart}`);
    } else {
      p = skipValue(r, p, t & 7, end);
    }
  }
}

const KEY_TAG = tag(1, WIRE_LEN);
const VALUE_TAG = tag(2, WIRE_LEN);

/** AnyValue { string 1; bool 2; int 3; double 4; array 5; kvlist 6; bytes 7 }: strings UTF-8, nesting bounded. */
function walkAnyValue(r: Reader, start: number, end: number, depth: number, record: boolean): void {
  if (depth > 16) throw new WireError('AnyValue nested too deep');
  const buf = r.buf;
  let p = start;
  while (p < end) {
    const fieldStart = p;
    const t = readVarint(buf, p, end);
    p = cursor.pos;
    const field = t >>> 3;
    if (field === 1 || field === 5 || field === 6 || field === 7) {
      if ((t & 7) !== WIRE_LEN) throw new WireError(`AnyValue field ${field} has wire type ${t & 7} at byte ${fieldStart}`);
      const stop = readLen(buf, p, end);
      p = cursor.pos;
      if (field === 1) {
        checkUtf8(buf, p, stop);
        if (record && keyValue.stringStart < 0) {
          keyValue.stringStart = p;
          keyValue.stringEnd = stop;
        }
      } else if (field === 5) {
        walkValues(r, p, stop, depth + 1, false);
      } else if (field === 6) {
        walkValues(r, p, stop, depth + 1, true);
        if (record && keyValue.kvlistStart < 0) {
          keyValue.kvlistStart = p;
          keyValue.kvlistEnd = stop;
        }
      }
      p = stop;
    } else {
      p = skipValue(r, p, t & 7, end);
    }
  }
}

/** ArrayValue / KeyValueList: `values = 1`, each checked as an AnyValue or a KeyValue. */
function walkValues(r: Reader, start: number, end: number, depth: number, keyValues: boolean): void {
  const buf = r.buf;
  let p = start;
  while (p < end) {
    const t = readVarint(buf, p, end);
    p = cursor.pos;
    if (t === KEY_TAG) {
      const stop = readLen(buf, p, end);
      const at = cursor.pos;
      if (!keyValues) walkAnyValue(r, at, stop, depth, false);
      else if (!stringKeyValue(buf, at, stop, false)) walkKeyValue(r, at, stop, depth, false);
      p = stop;
    } else {
      p = skipValue(r, p, t & 7, end);
    }
  }
}
