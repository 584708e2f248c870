import { describe, expect, it } from 'vitest';
import { lengthPrefixedFrames } from '../../../src/decode/length-prefixed.ts';
import { RecordError } from '../../../src/decode/record-error.ts';
import { lengthPrefixed } from '../../helpers/cloudwatch-fixtures.ts';

const frames = (record: Uint8Array) => [...lengthPrefixedFrames(record)].map((f) => Buffer.from(record.subarray(f.start, f.end)));

describe('lengthPrefixedFrames', () => {
  it('reads frames whose length prefixes take 1, 2 and 3 bytes, each from its own position', () => {
    const small = Buffer.alloc(5, 1); // prefix 0x05
    const medium = Buffer.alloc(300, 2); // prefix 0xac 0x02
    const large = Buffer.alloc(70_000, 3); // prefix of 3 bytes
    const record = lengthPrefixed(small, medium, large, small);
    expect(record.length).toBe(1 + 5 + 2 + 300 + 3 + 70_000 + 1 + 5);
    expect(frames(record)).toEqual([small, medium, large, small]);
  });

  it('reads an empty frame and an empty record', () => {
    expect(frames(lengthPrefixed(Buffer.alloc(0), Buffer.from([7])))).toEqual([Buffer.alloc(0), Buffer.from([7])]);
    expect(frames(Buffer.alloc(0))).toEqual([]);
  });

  it('refuses a frame that declares more bytes than the record has left', () => {
    const record = lengthPrefixed(Buffer.alloc(10), Buffer.alloc(200)).subarray(0, 11 + 2 + 150);
    expect(() => frames(record)).toThrow(RecordError);
    expect(() => frames(record)).toThrow('frame at byte 11 declares 200 bytes but only 150 are left in the record');
  });

  it('refuses a length prefix cut off by the end of the record', () => {
    expect(() => frames(Buffer.from([0x05, 1, 2, 3, 4, 5, 0x80]))).toThrow('frame length prefix at byte 6 is cut off');
  });

  it('refuses a length prefix that does not fit in 32 bits', () => {
    expect(() => frames(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]))).toThrow('does not fit in 32 bits');
  });
});
