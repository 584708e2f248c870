import type { Writer } from './wire-format.ts';

/**
 * Span and trace ids kept as their hex text from reading to writing: checked in one loop over the characters
 * (no regular expression), then decoded straight into the writer's buffer (no Buffer or Uint8Array per id).
 */

type ReservingWriter = Writer & { _reserve(n: number): void; buf: Uint8Array };

/** The value of each ASCII hex digit, −1 for any other character. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x41 + i] = HEX[0x61 + i] = 10 + i;

/** Decodes the hex digits [from, to) of `s` into `out` from `at`; false at a character that is not one. */
function decodeHex(s: string, from: number, to: number, out: Uint8Array, at: number): boolean {
  for (let i = from; i < to; i += 2) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    const hi = a < 128 ? HEX[a]! : -1;
    const lo = b < 128 ? HEX[b]! : -1;
    if ((hi | lo) < 0) return false;
    out[at++] = (hi << 4) | lo;
  }
  return true;
}

const scratch = new Uint8Array(16);

function nonZero(n: number): boolean {
  let any = 0;
  for (let i = 0; i < n; i++) any |= scratch[i]!;
  return any !== 0;
}

/** X-Ray's trace id form: `1-` + 8 hex digits (epoch seconds) + `-` + 24; W3C's id is the two joined. */
const isXray = (v: string): boolean => v.length === 35 && v.charCodeAt(0) === 0x31 && v.charCodeAt(1) === 0x2d && v.charCodeAt(10) === 0x2d;

/** A trace id as read: 32 hex digits or X-Ray's form, not all zeros; undefined otherwise. */
export function traceIdOf(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const ok = v.length === 32 ? decodeHex(v, 0, 32, scratch, 0) : isXray(v) && decodeHex(v, 2, 10, scratch, 0) && decodeHex(v, 11, 35, scratch, 4);
  return ok && nonZero(16) ? v : undefined;
}

/** A span id as read: 16 hex digits, not all zeros; undefined otherwise. */
export function spanIdOf(v: unknown): string | undefined {
  return typeof v === 'string' && v.length === 16 && decodeHex(v, 0, 16, scratch, 0) && nonZero(8) ? v : undefined;
}

/** Writes a bytes field (`fieldTag`) of an id that traceIdOf or spanIdOf accepted. */
export function writeHexId(w: Writer, fieldTag: number, id: string): void {
  const xray = id.length === 35;
  const n = xray ? 16 : id.length >> 1;
  w.uint32(fieldTag).uint32(n);
  (w as ReservingWriter)._reserve(n);
  const buf = (w as ReservingWriter).buf;
  if (xray) decodeHex(id, 2, 10, buf, w.pos) && decodeHex(id, 11, 35, buf, w.pos + 4);
  else decodeHex(id, 0, id.length, buf, w.pos);
  w.pos += n;
}
