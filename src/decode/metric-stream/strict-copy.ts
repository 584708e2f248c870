import { WIRE_LEN, WireError, tag, type Reader, type Writer } from '../../otlp/wire-format.ts';
import { checkKeyValue } from '../../otlp/wire-key-value.ts';
import { checkUtf8, readLen, readLenBounds, skipField, skipValue, type WireCursor } from '../../otlp/wire-read.ts';
import { copyFieldSince, copyRange } from '../../otlp/wire-write.ts';

/* The fields the rewrite copies as they came, checked first for what strict decoders would refuse. */

const LEN1 = tag(1, WIRE_LEN);

/** Field numbers of a message that hold strings (checked as UTF-8), as a bit mask: bit n = field n. */
export type StringFields = number;
export const NO_STRING_FIELDS: StringFields = 0;
/** ResourceMetrics / ScopeMetrics: schema_url = 3. */
export const STRING_FIELDS_OF_CONTAINER: StringFields = 1 << 3;
/** Metric: name = 1, description = 2, unit = 3. */
export const STRING_FIELDS_OF_METRIC: StringFields = (1 << 1) | (1 << 2) | (1 << 3);

/**
 * Copies a field it does not rewrite, checking first what strict decoders would refuse in it: a string
 * field that is not UTF-8 or not length-delimited. `p` is just after the tag `t`; returns where the field ends.
 */
export function copyChecked(r: Reader, p: number, t: number, fieldStart: number, end: number, w: Writer, strings: StringFields, c: WireCursor): number {
  const field = t >>> 3;
  let after: number;
  if (field < 31 && (strings >>> field) & 1) {
    if ((t & 7) !== WIRE_LEN) throw new WireError(`string field ${field} has wire type ${t & 7} at byte ${fieldStart}`);
    after = readLen(r.buf, p, end, c);
    checkUtf8(r.buf, c.pos, after);
  } else {
    after = skipValue(r, p, t & 7, end, c);
  }
  copyRange(w, r.buf, fieldStart, after);
  return after;
}

/** copyChecked for the callers that keep their position in the Reader. */
export function copyCheckedField(r: Reader, t: number, end: number, fieldStart: number, w: Writer, strings: StringFields, c: WireCursor): void {
  r.pos = copyChecked(r, r.pos, t, fieldStart, end, w, strings, c);
}

/** InstrumentationScope { name = 1; version = 2; attributes = 3 }. */
function checkScope(r: Reader, start: number, end: number, c: WireCursor): void {
  r.pos = start;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const t = r.uint32();
    const field = t >>> 3;
    if (field >= 1 && field <= 3 && (t & 7) !== WIRE_LEN)
      throw new WireError(`InstrumentationScope field ${field} has wire type ${t & 7} at byte ${fieldStart}`);
    if (field === 1 || field === 2) {
      const stop = readLenBounds(r, end);
      checkUtf8(r.buf, r.pos, stop);
      r.pos = stop;
    } else if (field === 3) {
      const stop = readLenBounds(r, end);
      checkKeyValue(r, r.pos, stop, c);
      r.pos = stop;
    } else {
      skipField(r, t & 7, end);
    }
  }
}

/** A ScopeMetrics field other than `metrics`: the scope (checked) or schema_url / unknown fields, copied. */
export function copyScopeMetricsField(r: Reader, t: number, end: number, fieldStart: number, w: Writer, c: WireCursor): void {
  if (t === LEN1) {
    const stop = readLenBounds(r, end);
    checkScope(r, r.pos, stop, c);
    r.pos = stop;
    copyFieldSince(r, fieldStart, w);
  } else {
    if (t >>> 3 === 1 || t >>> 3 === 2) throw new WireError(`ScopeMetrics field ${t >>> 3} has wire type ${t & 7} at byte ${fieldStart}`);
    copyCheckedField(r, t, end, fieldStart, w, STRING_FIELDS_OF_CONTAINER, c);
  }
}
