import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, Writer, tag } from './wire-format.ts';

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
