import { isUtf8 } from 'node:buffer';
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireError, type Reader } from './wire-format.ts';

/**
 * A walk's scratch, owned by its caller (one per record) and reused field after field, so that a read
 * allocates nothing: `pos` is where the last varint read ended; the other fields are the bounds that
 * scanKeyValue or findKey found last (-1: absent).
 */
export class WireCursor {
  pos = 0;
  keyStart = -1;
  keyEnd = -1;
  stringStart = -1;
  stringEnd = -1;
  kvlistStart = -1;
  kvlistEnd = -1;
}

/**
 * The hot paths read tags and lengths with these rather than through a Reader: a local position and a
 * one-byte fast path (nearly every tag and most lengths in OTLP are one byte).
 * Reads the varint at `p` (as protobuf's uint32: bits above 32 dropped) and leaves the position after it in `c.pos`.
 */
export function readVarint(buf: Uint8Array, p: number, end: number, c: WireCursor): number {
  if (p < end) {
    const b = buf[p]!;
    if (b < 0x80) {
      c.pos = p + 1;
      return b;
    }
  }
  return readVarintSlow(buf, p, end, c);
}

/** `at` is a WireCursor or, for readLenBounds, the Reader itself. */
function readVarintSlow(buf: Uint8Array, p: number, end: number, at: { pos: number }): number {
  let value = 0;
  for (let i = 0; i < 10; i++, p++) {
    if (p >= end) throw new WireError(`varint at byte ${p} runs past the end of its message`);
    const b = buf[p]!;
    if (i < 5) value |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      at.pos = p + 1;
      return value >>> 0;
    }
  }
  throw new WireError(`varint at byte ${p} is longer than 10 bytes`);
}

/** Reads a length at `p`: returns where the field's contents end, `c.pos` where they start. */
export function readLen(buf: Uint8Array, p: number, end: number, c: WireCursor): number {
  const len = readVarint(buf, p, end, c);
  return lenStop(len, c.pos, end);
}

function lenStop(len: number, start: number, end: number): number {
  const stop = start + len;
  if (stop > end) throw new WireError(`field length ${len} at byte ${start} runs past the end of its message (${end - start} bytes left)`);
  return stop;
}

/**
 * Reads the next length-delimited field's bounds after its tag was read, checking the length against the
 * bytes that are left before anything is sliced (readLen, for callers that keep their position in the
 * Reader: `r.pos` is left where the contents start).
 */
export function readLenBounds(r: Reader, end: number): number {
  const p = r.pos;
  const b = p < end ? r.buf[p]! : 0x80;
  let len: number;
  if (b < 0x80) {
    len = b;
    r.pos = p + 1;
  } else {
    len = readVarintSlow(r.buf, p, end, r);
  }
  return lenStop(len, r.pos, end);
}

/** Skips the value of a field of wire type `wireType` starting at `p`: returns the position after it. */
export function skipValue(r: Reader, p: number, wireType: number, end: number, c: WireCursor): number {
  return wireType === WIRE_LEN ? readLen(r.buf, p, end, c) : skipScalar(r, p, wireType, end);
}

/** Skips the field whose tag was just read (skipValue, for callers that keep their position in the Reader). */
export function skipField(r: Reader, wireType: number, end: number): void {
  r.pos = wireType === WIRE_LEN ? readLenBounds(r, end) : skipScalar(r, r.pos, wireType, end);
}

/** skipValue of any wire type but a length-delimited one. */
function skipScalar(r: Reader, p: number, wireType: number, end: number): number {
  const buf = r.buf;
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
