/**
 * Span and trace ids from their hex text to bytes, checked and decoded in one loop over the characters
 * (no regular expression, no Buffer.from per id: see docs/performance.md, Spans).
 */

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

function nonZero(bytes: Uint8Array): boolean {
  let any = 0;
  for (let i = 0; i < bytes.length; i++) any |= bytes[i]!;
  return any !== 0;
}

/** 32 hex digits, or X-Ray's `1-` + 8 + `-` + 24 (W3C's id is the two joined); undefined if neither or all zeros. */
export function traceIdOf(v: unknown): Uint8Array | undefined {
  if (typeof v !== 'string') return undefined;
  const out = new Uint8Array(16);
  let ok = false;
  if (v.length === 32) ok = decodeHex(v, 0, 32, out, 0);
  else if (v.length === 35 && v.charCodeAt(0) === 0x31 && v.charCodeAt(1) === 0x2d && v.charCodeAt(10) === 0x2d) {
    ok = decodeHex(v, 2, 10, out, 0) && decodeHex(v, 11, 35, out, 4);
  }
  return ok && nonZero(out) ? out : undefined;
}

/** 16 hex digits, not all zeros; undefined otherwise. */
export function spanIdOf(v: unknown): Uint8Array | undefined {
  if (typeof v !== 'string' || v.length !== 16) return undefined;
  const out = new Uint8Array(8);
  return decodeHex(v, 0, 16, out, 0) && nonZero(out) ? out : undefined;
}
