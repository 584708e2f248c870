import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seriesFrames, type SeriesPoint } from '../../../src/decode/log-metric-frames.ts';
import { cloudWatchPointAttributes } from '../../../src/decode/metric-stream-json.ts';
import { encodeMetricsRequest, jsonNanos, jsonString } from '../../../src/otlp/schema.ts';
import { SCOPE_NAME } from '../../../src/version.ts';

/** The frames as firetap built them before seriesFrames: request objects through protobufjs's fromObject + encode. */
function throughProtobufjs(series: readonly SeriesPoint[]): Uint8Array[] {
  const byResource = new Map<string, { account: string; region: string | undefined; metrics: object[] }>();
  for (const s of series) {
    const key = `${s.account}\u0000${s.region ?? ''}`;
    let group = byResource.get(key);
    if (!group) byResource.set(key, (group = { account: s.account, region: s.region, metrics: [] }));
    const point = {
      startTimeUnixNano: jsonNanos(s.firstMs),
      timeUnixNano: jsonNanos(s.lastMs),
      attributes: [...cloudWatchPointAttributes(s.namespace, s.metricName, s.dimensions), ...s.extra.map(([k, v]) => jsonString(k, v))],
    };
    group.metrics.push(
      s.kind === 'count'
        ? { name: s.name, unit: s.unit, sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ ...point, asDouble: s.sum }] } }
        : {
            name: s.name,
            unit: s.unit,
            summary: {
              dataPoints: [
                {
                  ...point,
                  count: String(s.count),
                  sum: s.sum,
                  quantileValues: [
                    { quantile: 0, value: s.min },
                    { quantile: 1, value: s.max },
                  ],
                },
              ],
            },
          },
    );
  }
  return [...byResource.values()].map((g) =>
    encodeMetricsRequest(
      [['cloud.provider', 'aws'], ['cloud.account.id', g.account], ...(g.region ? [['cloud.region', g.region] as const] : [])],
      g.metrics,
      SCOPE_NAME,
    ),
  );
}

const text = fc.oneof(fc.constantFrom('', 'aws.lambda.duration', 'ms', 'AWS/Lambda', '日本 é'), fc.string({ unit: 'grapheme', maxLength: 40 }));
const number = fc.oneof(fc.constantFrom(0, -0, 1, 0.5, -1), fc.double({ noNaN: true, noDefaultInfinity: true }));
const time = fc.oneof(
  fc.constantFrom(0, -0.5, 0.9, 1_795_000_000_123, 2 ** 42 + 1, -1_000),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e20, max: 1e20 }),
);
const point: fc.Arbitrary<SeriesPoint> = fc.record({
  account: fc.constantFrom('123456789012', '222222222222', ''),
  region: fc.constantFrom(undefined, 'eu-west-1', ''),
  name: text,
  unit: text,
  namespace: text,
  metricName: text,
  dimensions: fc.array(fc.tuple(text, text), { maxLength: 3 }),
  extra: fc.array(fc.tuple(text, text), { maxLength: 2 }),
  kind: fc.constantFrom('summary' as const, 'count' as const),
  count: fc.integer({ min: 1, max: 2 ** 40 }),
  sum: number,
  min: number,
  max: number,
  firstMs: time,
  lastMs: time,
});

describe('frames of metrics read out of log events', () => {
  it('are byte for byte what protobufjs encoded from the same request objects', () => {
    fc.assert(
      fc.property(fc.array(point, { minLength: 1, maxLength: 12 }), (series) => {
        expect(seriesFrames(series).map((f) => Buffer.from(f).toString('hex'))).toEqual(throughProtobufjs(series).map((f) => Buffer.from(f).toString('hex')));
      }),
      { numRuns: 300 },
    );
  });
});
