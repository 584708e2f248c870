import { Writer, type Reader } from './wire-format.ts';
import { viewOf } from './wire-read.ts';

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
 * Appends bytes [start, end) of `src` to the writer, without a temporary view. Short ranges go four bytes at a
 * time through DataViews (the writer's own, which protobufjs drops when it grows its buffer; the source's, kept
 * by viewOf); Buffer.copy has a fixed cost per call and pays only for long ones.
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
 * Appends all of `bytes` (unlike Writer.raw, with no length check beyond the buffer's growth: the hot path's).
 * Into shared memory (a decode thread's output) V8's TypedArray.set copies byte by byte unless both sides are
 * aligned alike; there it goes through Buffer.copy of a range of the whole underlying buffer, a memcpy (of a
 * view given whole, Buffer.copy calls TypedArray.set itself).
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
