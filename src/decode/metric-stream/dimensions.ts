import { WIRE_LEN, tag, type Reader, type Writer } from '../../otlp/wire-format.ts';
import { findKey, scanKeyValue, scannedString } from '../../otlp/wire-key-value.ts';
import { rangesEqual, readLen, readLenBounds, readVarint, skipField, skipValue, utf8, type WireCursor } from '../../otlp/wire-read.ts';
import { copyFieldSince, copyRange } from '../../otlp/wire-write.ts';
import { RecordError } from '../record-error.ts';
import { MAX_ATTRIBUTES_PER_POINT } from './context.ts';

/* A data point's `Dimensions` kvlist: located, read (for the lookup) and written as one attribute per dimension. */

const LEN1 = tag(1, WIRE_LEN);
const LEN2 = tag(2, WIRE_LEN);
export const DIMENSIONS = Buffer.from('Dimensions');
const DIMENSION_COLLISION_PREFIX = 'Dimensions.';

/** KeyValue.key = 1 "Dimensions"; its value = 2 is an AnyValue whose kvlist_value = 6. */
const DIMENSIONS_KEY = Buffer.concat([Buffer.from([LEN1, DIMENSIONS.length]), DIMENSIONS]);
const KVLIST_VALUE = tag(6, WIRE_LEN);

/**
 * Locates, without checking it, a data point attribute encoded as CloudWatch writes `Dimensions`: the key
 * `Dimensions`, then a value that holds only a kvlist reaching to the attribute's end. Leaves where the
 * kvlist's contents start in `c.pos` (they end at `end`). Anything else is left to scanKeyValue.
 */
export function locateDimensions(buf: Uint8Array, p: number, end: number, c: WireCursor): boolean {
  const valueTagAt = p + DIMENSIONS_KEY.length;
  if (valueTagAt + 1 >= end || buf[valueTagAt] !== LEN2) return false;
  for (let i = 0; i < DIMENSIONS_KEY.length; i++) if (buf[p + i] !== DIMENSIONS_KEY[i]) return false;
  // A length that does not reach exactly to the end is left to the scan (a malformed one throws here as it would there).
  const valueLength = readVarint(buf, valueTagAt + 1, end, c);
  const listTagAt = c.pos;
  if (listTagAt + valueLength !== end || listTagAt >= end || buf[listTagAt] !== KVLIST_VALUE) return false;
  const listLength = readVarint(buf, listTagAt + 1, end, c);
  return c.pos + listLength === end;
}

/** KeyValueList → dimension name → string value. */
export function readDimensions(r: Reader, start: number, end: number, c: WireCursor): Map<string, string> {
  const dims = new Map<string, string>();
  const saved = r.pos;
  r.pos = start;
  while (r.pos < end) {
    const t = r.uint32();
    if (t !== LEN1) {
      skipField(r, t & 7, end);
      continue;
    }
    const stop = readLenBounds(r, end);
    scanKeyValue(r, r.pos, stop, c);
    if (c.keyStart >= 0) dims.set(utf8(r, c.keyStart, c.keyEnd), scannedString(r, c) ?? '');
    r.pos = stop;
  }
  r.pos = saved;
  return dims;
}

/** KeyValueList { values = 1 (KeyValue) }: each KeyValue becomes a data point attribute of its own. */
export function writeDimensions(
  r: Reader,
  start: number,
  end: number,
  w: Writer,
  attributesTag: number,
  keys: Int32Array,
  keyCount: number,
  c: WireCursor,
): void {
  const buf = r.buf;
  let p = start;
  let count = keyCount / 2;
  while (p < end) {
    const t = readVarint(buf, p, end, c);
    p = c.pos;
    if (t !== LEN1) {
      p = skipValue(r, p, t & 7, end, c);
      continue;
    }
    if (++count > MAX_ATTRIBUTES_PER_POINT) throw new RecordError('too_large', `a data point has more than ${MAX_ATTRIBUTES_PER_POINT} attributes`);
    const stop = readLen(buf, p, end, c);
    p = c.pos;
    let collides = false;
    if (findKey(r, p, stop, c)) {
      for (let i = 0; i < keyCount && !collides; i += 2) collides = rangesEqual(buf, keys[i]!, keys[i + 1]!, c.keyStart, c.keyEnd);
    }
    if (collides) {
      writeRenamedKeyValue(r, p, stop, [c.keyStart, c.keyEnd], w, attributesTag);
    } else {
      w.uint32(attributesTag).uint32(stop - p);
      copyRange(w, buf, p, stop);
    }
    p = stop;
  }
}

/** Writes the KeyValue spanning [start, stop) under the key `Dimensions.<key>`, its value copied. */
function writeRenamedKeyValue(r: Reader, start: number, stop: number, key: [number, number], w: Writer, attributesTag: number): void {
  const name = DIMENSION_COLLISION_PREFIX + Buffer.from(r.buf.subarray(key[0], key[1])).toString('utf8');
  w.uint32(attributesTag).fork().uint32(LEN1).string(name);
  r.pos = start;
  while (r.pos < stop) {
    const fieldStart = r.pos;
    const t = r.uint32();
    skipField(r, t & 7, stop);
    if (t !== LEN1) copyFieldSince(r, fieldStart, w);
  }
  w.ldelim();
}
