import { describe, expect, it } from 'vitest';
import { Writer, writeFixed64Nanos } from '../../../src/otlp/wire.ts';

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
