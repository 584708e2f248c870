import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, Writer, tag } from './wire-format.ts';
import { closeField, openField } from './wire-write.ts';

/**
 * How an exact JSON reader marks an integer JSON.parse would round (beyond 2⁵³): its digits after this
 * character, as a string. The encoder below writes such a value as the integer it is.
 */
export const BIG_INTEGER_MARK = '\u0001';
const INTEGER = /^-?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A marked integer (see BIG_INTEGER_MARK) as a bigint, or undefined for any other string. */
export function markedInteger(value: string): bigint | undefined {
  if (value.charCodeAt(0) !== 1) return undefined;
  const digits = value.slice(1);
  return INTEGER.test(digits) ? BigInt(digits) : undefined;
}

/**
 * Writes the contents of an OTLP AnyValue for a value of parsed JSON: a string, a boolean, an integer
 * (int_value; a marked big one exactly, one beyond int64 as its digits in a string), any other number
 * (double_value), an array (array_value), bytes (bytes_value), an object (kvlist_value); null: empty.
 */
export function writeAnyValueFields(w: Writer, value: unknown, depth = 0): void {
  switch (typeof value) {
    case 'string': {
      const big = markedInteger(value);
      if (big === undefined) w.uint32(tag(1, WIRE_LEN)).string(value);
      else writeBigInteger(w, big);
      return;
    }
    case 'boolean':
      w.uint32(tag(2, WIRE_VARINT)).bool(value);
      return;
    case 'number':
      if (Number.isSafeInteger(value)) w.uint32(tag(3, WIRE_VARINT)).int64(value);
      else w.uint32(tag(4, WIRE_FIXED64)).double(value);
      return;
    case 'bigint':
      writeBigInteger(w, value);
      return;
    case 'object': {
      if (value === null || depth > 16) return;
      if (value instanceof Uint8Array) {
        w.uint32(tag(7, WIRE_LEN)).bytes(value);
        return;
      }
      if (Array.isArray(value)) {
        const array = openField(w, tag(5, WIRE_LEN), 0);
        for (const item of value) {
          const any = openField(w, tag(1, WIRE_LEN), 0);
          writeAnyValueFields(w, item, depth + 1);
          closeField(w, any, 0);
        }
        closeField(w, array, 0);
        return;
      }
      const list = openField(w, tag(6, WIRE_LEN), 0);
      for (const [k, v] of Object.entries(value)) writeKeyValue(w, 1, k, v, depth + 1);
      closeField(w, list, 0);
      return;
    }
    default:
      return;
  }
}

/** int_value = 3 of an int64 given as a bigint (protobufjs takes its two 32-bit halves, as a Long has them); beyond int64, its digits. */
function writeBigInteger(w: Writer, value: bigint): void {
  if (value < INT64_MIN || value > INT64_MAX) {
    w.uint32(tag(1, WIRE_LEN)).string(value.toString());
    return;
  }
  const u = BigInt.asUintN(64, value);
  const long = { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: false };
  w.uint32(tag(3, WIRE_VARINT)).int64(long as unknown as number);
}

/** Writes one KeyValue field (`fieldTag` number) of a key and a value of parsed JSON. */
export function writeKeyValue(w: Writer, field: number, key: string, value: unknown, depth = 0): void {
  // openField/closeField: no allocation per message, unlike fork/ldelim (most KeyValues are < 128 bytes).
  const kv = openField(w, tag(field, WIRE_LEN), 0);
  w.uint32(tag(1, WIRE_LEN)).string(key);
  const any = openField(w, tag(2, WIRE_LEN), 0);
  writeAnyValueFields(w, value, depth);
  closeField(w, any, 0);
  closeField(w, kv, 0);
}

/** Writes a flat attribute map as repeated KeyValue fields of number `field`. */
export function writeAttributes(w: Writer, field: number, attributes: Readonly<Record<string, unknown>> | undefined): void {
  if (!attributes) return;
  for (const key in attributes) writeKeyValue(w, field, key, attributes[key]);
}

/** One KeyValue message of a key and a value of parsed JSON, encoded (as ResourceBuilder.add takes it). */
export function encodeJsonKeyValue(key: string, value: unknown): Uint8Array {
  const w = Writer.create();
  w.uint32(tag(1, WIRE_LEN)).string(key);
  w.uint32(tag(2, WIRE_LEN)).fork();
  writeAnyValueFields(w, value);
  w.ldelim();
  return w.finish();
}
