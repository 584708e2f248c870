import { WIRE_LEN, WireError, tag, type Reader } from './wire-format.ts';
import { checkUtf8, readLen, readVarint, skipValue, utf8, type WireCursor } from './wire-read.ts';

const KEY_TAG = tag(1, WIRE_LEN);
const VALUE_TAG = tag(2, WIRE_LEN);

/**
 * Finds the key of an encoded KeyValue spanning [start, end) and leaves its bounds in `c.keyStart`/`c.keyEnd`.
 * Encoders write the key first (field order), which is checked before falling back to a scan.
 */
export function findKey(r: Reader, start: number, end: number, c: WireCursor): boolean {
  const buf = r.buf;
  if (buf[start] === 0x0a && start + 1 < end && buf[start + 1]! < 0x80) {
    const keyEnd = start + 2 + buf[start + 1]!;
    if (keyEnd <= end) {
      c.keyStart = start + 2;
      c.keyEnd = keyEnd;
      return true;
    }
  }
  scanKeyValue(r, start, end, c);
  return c.keyStart >= 0;
}

/** The string value of the KeyValue `scanKeyValue` read last into `c`, or undefined when its value is not a string. */
export function scannedString(r: Reader, c: WireCursor): string | undefined {
  return c.stringStart < 0 ? undefined : utf8(r, c.stringStart, c.stringEnd);
}

/**
 * Checks an encoded KeyValue in one pass — its key is UTF-8, its value (if a string, array or kvlist) too —
 * and leaves in `c` where its key and its string or kvlist value are (the first of each).
 */
export function scanKeyValue(r: Reader, start: number, end: number, c: WireCursor): void {
  c.kvlistStart = c.kvlistEnd = -1;
  if (stringKeyValue(r.buf, start, end, c, true)) return;
  c.stringStart = c.stringEnd = -1;
  c.keyStart = c.keyEnd = -1;
  const saved = r.pos;
  walkKeyValue(r, start, end, 0, c, true);
  r.pos = saved;
}

/**
 * The KeyValue every encoder writes for a string attribute — { key = 1; value = 2 { string_value = 1 } }, in
 * that order, with lengths of one byte — checked (both strings UTF-8) and located in `c` without the
 * general walk. False, with nothing checked, for any other layout.
 */
function stringKeyValue(buf: Uint8Array, start: number, end: number, c: WireCursor, record: boolean): boolean {
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
    c.keyStart = start + 2;
    c.keyEnd = keyEnd;
    c.stringStart = keyEnd + 4;
    c.stringEnd = end;
  }
  return true;
}

/** Checks an encoded KeyValue: its key is UTF-8, its value (if a string, array or kvlist) too. */
export function checkKeyValue(r: Reader, start: number, end: number, c: WireCursor): void {
  const saved = r.pos;
  walkKeyValue(r, start, end, 0, c, false);
  r.pos = saved;
}

function walkKeyValue(r: Reader, start: number, end: number, depth: number, c: WireCursor, record: boolean): void {
  const buf = r.buf;
  let p = start;
  let sawValue = false;
  while (p < end) {
    const fieldStart = p;
    const t = readVarint(buf, p, end, c);
    p = c.pos;
    if (t === KEY_TAG) {
      const stop = readLen(buf, p, end, c);
      p = c.pos;
      checkUtf8(buf, p, stop);
      if (record && c.keyStart < 0) {
        c.keyStart = p;
        c.keyEnd = stop;
      }
      p = stop;
    } else if (t === VALUE_TAG) {
      const stop = readLen(buf, p, end, c);
      p = c.pos;
      walkAnyValue(r, p, stop, depth + 1, c, record && !sawValue);
      sawValue = true;
      p = stop;
    } else if (t >>> 3 === 1 || t >>> 3 === 2) {
      throw new WireError(`KeyValue field ${t >>> 3} has wire type ${t & 7} at byte ${fieldStart}`);
    } else {
      p = skipValue(r, p, t & 7, end, c);
    }
  }
}

/** AnyValue { string 1; bool 2; int 3; double 4; array 5; kvlist 6; bytes 7 }: strings UTF-8, nesting bounded. */
function walkAnyValue(r: Reader, start: number, end: number, depth: number, c: WireCursor, record: boolean): void {
  if (depth > 16) throw new WireError('AnyValue nested too deep');
  const buf = r.buf;
  let p = start;
  while (p < end) {
    const fieldStart = p;
    const t = readVarint(buf, p, end, c);
    p = c.pos;
    const field = t >>> 3;
    if (field === 1 || field === 5 || field === 6 || field === 7) {
      if ((t & 7) !== WIRE_LEN) throw new WireError(`AnyValue field ${field} has wire type ${t & 7} at byte ${fieldStart}`);
      const stop = readLen(buf, p, end, c);
      p = c.pos;
      if (field === 1) {
        checkUtf8(buf, p, stop);
        if (record && c.stringStart < 0) {
          c.stringStart = p;
          c.stringEnd = stop;
        }
      } else if (field === 5) {
        walkValues(r, p, stop, depth + 1, c, false);
      } else if (field === 6) {
        walkValues(r, p, stop, depth + 1, c, true);
        if (record && c.kvlistStart < 0) {
          c.kvlistStart = p;
          c.kvlistEnd = stop;
        }
      }
      p = stop;
    } else {
      p = skipValue(r, p, t & 7, end, c);
    }
  }
}

/** ArrayValue / KeyValueList: `values = 1`, each checked as an AnyValue or a KeyValue. */
function walkValues(r: Reader, start: number, end: number, depth: number, c: WireCursor, keyValues: boolean): void {
  const buf = r.buf;
  let p = start;
  while (p < end) {
    const t = readVarint(buf, p, end, c);
    p = c.pos;
    if (t === KEY_TAG) {
      const stop = readLen(buf, p, end, c);
      const at = c.pos;
      if (!keyValues) walkAnyValue(r, at, stop, depth, c, false);
      else if (!stringKeyValue(buf, at, stop, c, false)) walkKeyValue(r, at, stop, depth, c, false);
      p = stop;
    } else {
      p = skipValue(r, p, t & 7, end, c);
    }
  }
}
