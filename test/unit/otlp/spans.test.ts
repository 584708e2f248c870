import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeFixed64Digits } from '../../../src/otlp/spans.ts';
import { Writer } from '../../../src/otlp/wire.ts';

const encoded = (digits: string) => {
  const w = Writer.create();
  writeFixed64Digits(w, digits);
  return Buffer.from(w.finish());
};
const expected = (value: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return b;
};

describe('writeFixed64Digits', () => {
  it('writes every unsigned 64-bit integer given as digits exactly, as BigInt would', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (value) => {
        expect(encoded(value.toString())).toEqual(expected(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each(['0', '1', '999999999999999', '1000000000000000', '1795000000123456789', '9007199254740993', '18446744073709551615'])('writes %s exactly', (d) => {
    expect(encoded(d)).toEqual(expected(BigInt(d)));
  });
});
