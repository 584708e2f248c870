import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttributeFields } from '../../../src/otlp/attribute-fields.ts';
import { Writer, encodeKeyValue } from '../../../src/otlp/wire.ts';

/** Each attribute as encodeKeyValue writes it, wrapped in a LogRecord attributes field (6). */
function reference(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  const w = Writer.create();
  for (const [key, value] of pairs) {
    if ((typeof value === 'string' && value !== '') || typeof value === 'boolean') w.uint32((6 << 3) | 2).bytes(encodeKeyValue(key, value));
  }
  return Buffer.from(w.finish()).toString('hex');
}

describe('attributes written as LogRecord fields into one buffer', () => {
  it('writes the same bytes as encoding each KeyValue on its own, for strings of any UTF-8 and length, and booleans', () => {
    const value = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.string({ minLength: 120, maxLength: 20_000 }),
      fc.boolean(),
      fc.constant(''),
      fc.integer(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), value), { maxLength: 25 }), (pairs) => {
        const fields = new AttributeFields();
        for (const [key, v] of pairs) fields.add(key, v);
        const out = fields.finish();
        const expected = reference(pairs);
        expect(out === undefined ? '' : Buffer.from(out).toString('hex')).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('gives nothing when no attribute had a value to write', () => {
    const fields = new AttributeFields();
    fields.add('aws.cloudtrail.error_message', '');
    fields.add('aws.request_id', undefined);
    fields.add('cloud.region', 42);
    expect(fields.finish()).toBeUndefined();
  });
});
