import { varintSize } from './wire-write.ts';

/*
 * Attributes written straight as LogRecord attribute fields (`attributes = 6`: tag, length, KeyValue { key = 1;
 * value = 2 }), one after the other in one buffer, for an extractor that gives many events a dozen attributes each
 * (VPC flow logs, CloudTrail): see LOG_ATTRIBUTE_FIELDS. The bytes are those encodeKeyValue would write for each
 * attribute, wrapped in its field.
 */

/** LogRecord's attributes (6); KeyValue's key (1) and value (2); AnyValue's string (1), bool (2) and int (3) values. */
const ATTRIBUTE_FIELD = 0x32;
const KEY = 0x0a;
const VALUE = 0x12;
const STRING_VALUE = 0x0a;
const BOOL_VALUE = 0x10;
const INT_VALUE = 0x18;

const heads = new Map<string, Buffer>();

/** A KeyValue's key field and its value field's tag, made once per key. */
export function keyHead(key: string): Buffer {
  let head = heads.get(key);
  if (!head) {
    const bytes = Buffer.from(key);
    head = Buffer.alloc(1 + varintSize(bytes.length) + bytes.length + 1);
    head[0] = KEY;
    const p = writeUvarint(head, 1, bytes.length);
    head[p + bytes.copy(head, p)] = VALUE;
    heads.set(key, head);
  }
  return head;
}

/** Bytes of the varint of a non-negative integer up to 2^53 (protobuf's int64 of it). */
function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Writes the varint of a non-negative integer up to 2^53 at `p`; returns the position after it. */
function writeUvarint(buf: Buffer, p: number, n: number): number {
  while (n >= 0x80) {
    buf[p++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[p++] = n;
  return p;
}

/** Bytes of an attribute field whose key head is `head` and whose AnyValue is `valueBytes` long. */
function fieldSize(head: Buffer, valueBytes: number): number {
  const kv = head.length + varintSize(valueBytes) + valueBytes;
  return 1 + varintSize(kv) + kv;
}

/** Writes an attribute field's tag and length, the key and the value's tag and length at `p`: its AnyValue follows. */
function writeFieldHead(buf: Buffer, p: number, head: Buffer, valueBytes: number): number {
  buf[p++] = ATTRIBUTE_FIELD;
  p = writeUvarint(buf, p, head.length + varintSize(valueBytes) + valueBytes);
  p += head.copy(buf, p);
  return writeUvarint(buf, p, valueBytes);
}

/** Bytes of a string attribute field whose value is `length` bytes of UTF-8. */
export const stringFieldSize = (head: Buffer, length: number): number => fieldSize(head, 1 + varintSize(length) + length);

/** Writes a string attribute field (`length`: the value's UTF-8 bytes) at `p`; returns the position after it. */
export function writeStringField(buf: Buffer, p: number, head: Buffer, value: string, length: number): number {
  p = writeFieldHead(buf, p, head, 1 + varintSize(length) + length);
  buf[p++] = STRING_VALUE;
  p = writeUvarint(buf, p, length);
  return p + buf.write(value, p, 'utf8');
}

/** Bytes of an integer attribute field of a non-negative integer up to 2^53. */
export const intFieldSize = (head: Buffer, value: number): number => fieldSize(head, 1 + uvarintSize(value));

/** Writes an integer attribute field (int_value, a non-negative integer up to 2^53) at `p`; returns the position after it. */
export function writeIntField(buf: Buffer, p: number, head: Buffer, value: number): number {
  p = writeFieldHead(buf, p, head, 1 + uvarintSize(value));
  buf[p++] = INT_VALUE;
  return writeUvarint(buf, p, value);
}

/** An encoded KeyValue as an attribute field. */
export function attributeField(kv: Uint8Array): Buffer {
  const out = Buffer.alloc(1 + varintSize(kv.length) + kv.length);
  out[0] = ATTRIBUTE_FIELD;
  out.set(kv, writeUvarint(out, 1, kv.length));
  return out;
}

/** String and boolean attributes gathered, then written as attribute fields into one buffer. */
export class AttributeFields {
  private readonly keys: Buffer[] = [];
  private readonly values: Array<string | boolean> = [];
  /** Each string value's UTF-8 length. */
  private readonly lengths: number[] = [];
  private size = 0;

  /** Adds a non-empty string or a boolean; any other value is left out. */
  add(key: string, value: unknown): void {
    if (typeof value === 'string' && value !== '') {
      const head = keyHead(key);
      const n = Buffer.byteLength(value);
      this.push(head, value, n, stringFieldSize(head, n));
    } else if (typeof value === 'boolean') {
      const head = keyHead(key);
      this.push(head, value, 0, fieldSize(head, 2));
    }
  }

  /** The fields, or undefined when nothing was added. */
  finish(): Buffer | undefined {
    if (this.keys.length === 0) return undefined;
    const buf = Buffer.allocUnsafe(this.size);
    let p = 0;
    for (let i = 0; i < this.keys.length; i++) {
      const value = this.values[i]!;
      if (typeof value === 'boolean') {
        p = writeFieldHead(buf, p, this.keys[i]!, 2);
        buf[p++] = BOOL_VALUE;
        buf[p++] = value ? 1 : 0;
      } else {
        p = writeStringField(buf, p, this.keys[i]!, value, this.lengths[i]!);
      }
    }
    return buf;
  }

  private push(head: Buffer, value: string | boolean, length: number, bytes: number): void {
    this.keys.push(head);
    this.values.push(value);
    this.lengths.push(length);
    this.size += bytes;
  }
}
