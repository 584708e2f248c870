import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resourceLabels, withLabels } from '../../../src/export/otel-to-prometheus.ts';
import { toSeries } from '../../../src/export/remote-write-request.ts';
import { encodeMetricsRequest, jsonNanos, jsonString } from '../../../src/otlp/schema.ts';

/** Keys that stay as they are, that change, that meet after changing, and that the mapping treats apart. */
const KEYS = ['a', 'b', 'Z', 'a_b', 'a.b', 'a-b', '1a', 'key_1a', '__name__', 'job', 'instance', 'service.name', 'service.namespace'];
const pairs = fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom('', 'v', 'w;x')), { selector: ([k]) => k, maxLength: 8 });

describe('a point’s labels', () => {
  it('are the resource’s labels with the point’s attributes added, whichever way they are merged', () => {
    fc.assert(
      fc.property(pairs, pairs, (resource, attributes) => {
        const point = { attributes: attributes.map(([k, v]) => jsonString(k, v)), timeUnixNano: jsonNanos(1_795_000_000_000), asDouble: 1 };
        const [series] = [...toSeries(encodeMetricsRequest(resource, [{ name: 'g', gauge: { dataPoints: [point] } }]), 'otel').series()];
        const expected = Object.entries(withLabels(resourceLabels(Object.fromEntries(resource)), Object.fromEntries(attributes)))
          .filter(([k, v]) => v !== '' && k !== '__name__')
          .concat([['__name__', 'g']])
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        expect(series!.labels).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});
