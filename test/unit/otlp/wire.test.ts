import { describe, expect, it } from 'vitest';
import {
  Reader,
  WireError,
  Writer,
  closeField,
  copyRange,
  writeBytes,
  WireCursor,
  openField,
  readLen,
  readVarint,
  scanKeyValue,
  skipValue,
  writeFixed64Nanos,
} from '../../../src/otlp/wire.ts';
import { otlpTypes } from '../../../src/otlp/schema.ts';

/** The reads' cursor: where a varint ended, and what scanKeyValue found. */
const cursor = new WireCursor();
const keyValue = cursor;

const nanosOf = (ms: number) => {
  const w = Writer.create();
  writeFixed64Nanos(w, ms);
  return Buffer.from(w.finish()).readBigUInt64LE(0);
};

describe('writeFixed64Nanos', () => {
  it('writes milliseconds as nanoseconds exactly, where a double product would round', () => {
    for (const ms of [0, 1, 65_535, 65_536, 1_725_544_035_523, 1_795_000_000_123, 2 ** 42 - 1, 2 ** 42, 2 ** 42 + 5, 1.8e13]) {
      expect(nanosOf(ms)).toBe(BigInt(ms) * 1_000_000n);
    }
    for (let i = 0; i < 10_000; i++) {
      const ms = Math.floor(Math.random() * 2 ** 42);
      expect(nanosOf(ms)).toBe(BigInt(ms) * 1_000_000n);
    }
  });
});

describe('openField / closeField', () => {
  // What protobufjs writes for the same field with fork/ldelim: the reference the sized fields must equal.
  const reference = (content: Uint8Array) => Writer.create().uint32(0x12).fork().raw(content).ldelim().finish();

  it.each([
    ['as guessed', 100, 100],
    ['shorter than guessed, across a varint size (130 → 120 bytes)', 130, 120],
    ['longer than guessed, across a varint size (120 → 130 bytes)', 120, 130],
    ['far longer than guessed (10 → 20,000 bytes)', 10, 20_000],
    ['far shorter than guessed (20,000 → 0 bytes)', 20_000, 0],
  ])('writes the exact minimal length prefix when the contents are %s', (_, expected, actual) => {
    const content = Buffer.alloc(actual, 0x61);
    const w = Writer.create();
    w.uint32(0x08).uint32(7); // a field before, which must stay untouched
    const lenPos = openField(w, 0x12, expected);
    w.raw(content);
    closeField(w, lenPos, expected);
    w.uint32(0x18).uint32(9); // and one after
    const out = Buffer.from(w.finish());
    expect(out).toEqual(Buffer.concat([Buffer.from([0x08, 7]), reference(content), Buffer.from([0x18, 9])]));
  });
});

describe('readVarint / readLen / skipValue', () => {
  const buf = (...bytes: number[]) => Buffer.from(bytes);

  it('reads one-byte and multi-byte varints and says where they end', () => {
    expect(readVarint(buf(0x05), 0, 1, cursor)).toBe(5);
    expect(cursor.pos).toBe(1);
    expect(readVarint(buf(0x98, 0x06), 0, 2, cursor)).toBe(0x318); // tag of field 99, varint
    expect(cursor.pos).toBe(2);
    expect(readVarint(buf(0xff, 0xff, 0xff, 0xff, 0x0f), 0, 5, cursor)).toBe(0xffffffff);
  });

  it('refuses a varint that runs past the end of its message or never ends', () => {
    expect(() => readVarint(buf(0x80, 0x80), 0, 2, cursor)).toThrow(WireError);
    expect(() => readVarint(buf(0x80, 0x01), 0, 1, cursor)).toThrow(/runs past the end/);
    expect(() => readVarint(Buffer.alloc(12, 0x80), 0, 12, cursor)).toThrow(/longer than 10 bytes/);
  });

  it('refuses a length that runs past the end of its message', () => {
    expect(readLen(buf(0x02, 0x61, 0x62), 0, 3, cursor)).toBe(3);
    expect(cursor.pos).toBe(1);
    expect(() => readLen(buf(0x03, 0x61, 0x62), 0, 3, cursor)).toThrow(/field length 3 at byte 1 runs past the end/);
  });

  it('skips each wire type, and refuses one that runs past the end', () => {
    const r = (b: Buffer) => Reader.create(b);
    expect(skipValue(r(buf(0xac, 0x02, 0x00)), 0, 0, 3, cursor)).toBe(2); // varint 300
    expect(skipValue(r(Buffer.alloc(8)), 0, 1, 8, cursor)).toBe(8); // fixed64
    expect(skipValue(r(Buffer.alloc(4)), 0, 5, 4, cursor)).toBe(4); // fixed32
    expect(skipValue(r(buf(0x01, 0x00)), 0, 2, 2, cursor)).toBe(2); // length-delimited
    expect(() => skipValue(r(Buffer.alloc(7)), 0, 1, 7, cursor)).toThrow(/runs past the end/);
    expect(() => skipValue(r(buf(0x80, 0x80)), 0, 0, 2, cursor)).toThrow(/runs past the end/);
    expect(() => skipValue(r(buf(0x00)), 0, 7, 1, cursor)).toThrow(); // no wire type 7
  });
});

describe('scanKeyValue', () => {
  const T = otlpTypes.ExportMetricsServiceRequest.root.lookupType('KeyValue');

  it('finds the key and a string or kvlist value of a KeyValue while checking it', () => {
    const kv = Buffer.from(
      T.encode(T.fromObject({ key: 'Dimensions', value: { kvlistValue: { values: [{ key: 'InstanceId', value: { stringValue: 'i-1' } }] } } })).finish(),
    );
    scanKeyValue(Reader.create(kv), 0, kv.length, cursor);
    expect(kv.subarray(keyValue.keyStart, keyValue.keyEnd).toString()).toBe('Dimensions');
    expect(keyValue.stringStart).toBe(-1);
    expect(keyValue.kvlistEnd - keyValue.kvlistStart).toBeGreaterThan(0);
    const s = Buffer.from(T.encode(T.fromObject({ key: 'Namespace', value: { stringValue: 'AWS/EC2' } })).finish());
    scanKeyValue(Reader.create(s), 0, s.length, cursor);
    expect(s.subarray(keyValue.stringStart, keyValue.stringEnd).toString()).toBe('AWS/EC2');
    expect(keyValue.kvlistStart).toBe(-1);
  });

  it('refuses a key, a nested key or a nested string that is not UTF-8', () => {
    for (const object of [
      { key: 'Namespace', value: { stringValue: 'AWS/EC2' } },
      { key: 'Dimensions', value: { kvlistValue: { values: [{ key: 'InstanceId', value: { stringValue: 'i-1' } }] } } },
      { key: 'list', value: { arrayValue: { values: [{ stringValue: 'abc' }] } } },
    ]) {
      const bytes = Buffer.from(T.encode(T.fromObject(object)).finish());
      scanKeyValue(Reader.create(bytes), 0, bytes.length, cursor);
      const at = bytes.lastIndexOf(Buffer.from(object.key === 'Namespace' ? 'AWS' : object.key === 'list' ? 'abc' : 'i-1'));
      bytes[at] = 0xc3; // a lone UTF-8 lead byte
      expect(() => scanKeyValue(Reader.create(bytes), 0, bytes.length, cursor)).toThrow(/not valid UTF-8/);
    }
  });

  it('reads a string attribute of any length, key or value, checking both, the same as a walk of it would', () => {
    for (const [keyLength, valueLength] of [
      [1, 0],
      [9, 7],
      [10, 113],
      [10, 114],
      [10, 200],
      [127, 1],
      [128, 1],
      [200, 300],
    ] as const) {
      const key = 'k'.repeat(keyLength);
      const value = 'v'.repeat(valueLength);
      const bytes = Buffer.from(T.encode(T.fromObject({ key, value: { stringValue: value } })).finish());
      // Inside a larger buffer, so that bytes past the KeyValue's end are there to be misread.
      const buf = Buffer.concat([Buffer.from([0x0a, 0x7f]), bytes, Buffer.from([0x0a, 0x0a, 0x12, 0x02, 0x0a, 0x00])]);
      scanKeyValue(Reader.create(buf), 2, 2 + bytes.length, cursor);
      expect(buf.subarray(keyValue.keyStart, keyValue.keyEnd).toString()).toBe(key);
      expect(buf.subarray(keyValue.stringStart, keyValue.stringEnd).toString()).toBe(value);
      expect(keyValue.kvlistStart).toBe(-1);
      for (const at of [buf.indexOf('k'), buf.lastIndexOf('v')]) {
        if (at < 0) continue;
        const bad = Buffer.from(buf);
        bad[at] = 0xff;
        expect(() => scanKeyValue(Reader.create(bad), 2, 2 + bytes.length, cursor)).toThrow(/not valid UTF-8/);
      }
    }
    // A string value followed by more in the value, or a value before the key: read in full, the first string kept.
    const more = Buffer.from([0x0a, 0x01, 0x61, 0x12, 0x05, 0x0a, 0x01, 0x62, 0x10, 0x01]);
    scanKeyValue(Reader.create(more), 0, more.length, cursor);
    expect([more.subarray(keyValue.keyStart, keyValue.keyEnd).toString(), more.subarray(keyValue.stringStart, keyValue.stringEnd).toString()]).toEqual([
      'a',
      'b',
    ]);
    const valueFirst = Buffer.from([0x12, 0x03, 0x0a, 0x01, 0x62, 0x0a, 0x01, 0x61]);
    scanKeyValue(Reader.create(valueFirst), 0, valueFirst.length, cursor);
    expect([
      valueFirst.subarray(keyValue.keyStart, keyValue.keyEnd).toString(),
      valueFirst.subarray(keyValue.stringStart, keyValue.stringEnd).toString(),
    ]).toEqual(['a', 'b']);
  });

  it('checks every entry of a kvlist value, string entries included', () => {
    const bytes = Buffer.from(
      T.encode(
        T.fromObject({
          key: 'Dimensions',
          value: {
            kvlistValue: {
              values: [
                { key: 'A', value: { stringValue: 'x' } },
                { key: 'B', value: { stringValue: 'yz' } },
              ],
            },
          },
        }),
      ).finish(),
    );
    for (const at of [bytes.indexOf('A'), bytes.indexOf('x'), bytes.indexOf('B'), bytes.indexOf('yz') + 1]) {
      const bad = Buffer.from(bytes);
      bad[at] = 0xc3;
      expect(() => scanKeyValue(Reader.create(bad), 0, bad.length, cursor)).toThrow(/not valid UTF-8/);
    }
  });
});

describe('copyRange', () => {
  it('appends exactly the bytes asked for into shared memory too (a decode thread writes there), as writeBytes does', () => {
    const w = Writer.create();
    (w as unknown as { buf: Uint8Array; view: DataView | null }).buf = Buffer.from(new SharedArrayBuffer(1 << 16));
    (w as unknown as { view: DataView | null }).view = null;
    const src = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 53 + 1) & 0xff));
    const expected: number[] = [];
    for (let len = 0; len <= 260; len += 7) {
      for (const start of [0, 1, 3]) {
        copyRange(w, src, start, start + len);
        writeBytes(w, src.subarray(start, start + len));
        expected.push(...src.subarray(start, start + len), ...src.subarray(start, start + len));
      }
    }
    expect((w as unknown as { buf: Uint8Array }).buf.buffer instanceof SharedArrayBuffer).toBe(true);
    expect(Buffer.from(w.finish())).toEqual(Buffer.from(expected));
  });

  it('appends exactly the bytes asked for, at every length and alignment, across the growth of the writer', () => {
    const src = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff));
    // Bytes that a float would not keep as they are (a signalling NaN) must come through unchanged too.
    src.set([0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x7f], 40);
    const expected: number[] = [];
    const w = Writer.create(); // starts small: grown (and its DataView dropped) many times on the way
    w.uint32(1);
    expected.push(1);
    for (let len = 0; len <= 130; len++) {
      for (const start of [0, 1, 2, 3, 37]) {
        copyRange(w, src, start, start + len);
        expected.push(...src.subarray(start, start + len));
        // Another source between two copies: the source's view follows it.
        const other = Buffer.from([len & 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77]);
        copyRange(w, other, 0, other.length);
        expected.push(...other);
      }
    }
    expect(Buffer.from(w.finish())).toEqual(Buffer.from(expected));
  });
});
