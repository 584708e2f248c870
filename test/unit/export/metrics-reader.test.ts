import { describe, expect, it } from 'vitest';
import { readMetricsRequest } from '../../../src/export/metrics-reader.ts';
import { jsonNanos, jsonString, otlpTypes } from '../../../src/otlp/schema.ts';

const T = 1_795_000_000_123;
const encode = (request: object) => otlpTypes.ExportMetricsServiceRequest.encode(otlpTypes.ExportMetricsServiceRequest.fromObject(request)).finish();

describe('the OTLP metrics reader of the remote-write exporter', () => {
  it('reads attributes of every value type, the resource, and each kind of metric as protobufjs encodes them', () => {
    const [resource, ...rest] = readMetricsRequest(
      encode({
        resourceMetrics: [
          {
            resource: { attributes: [jsonString('cloud.region', 'eu-west-1')] },
            scopeMetrics: [
              {
                scope: { name: 'firetap' },
                metrics: [
                  {
                    name: 'g',
                    gauge: {
                      dataPoints: [
                        {
                          attributes: [
                            jsonString('s', 'text'),
                            { key: 'i', value: { intValue: '-42' } },
                            { key: 'b', value: { boolValue: true } },
                            { key: 'd', value: { doubleValue: 1.5 } },
                            { key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }, { stringValue: 'y' }] } } },
                            { key: 'k', value: { kvlistValue: { values: [jsonString('inner', 'v')] } } },
                          ],
                          timeUnixNano: jsonNanos(T),
                          asInt: '-7',
                        },
                        { timeUnixNano: jsonNanos(T), asDouble: 2.25, flags: 1 },
                      ],
                    },
                  },
                  { name: 's', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ timeUnixNano: jsonNanos(T), asDouble: 9 }] } },
                  {
                    name: 'h',
                    histogram: {
                      aggregationTemporality: 1,
                      dataPoints: [
                        { attributes: [jsonString('x', '1')], timeUnixNano: jsonNanos(T), count: '5', sum: 3.5, bucketCounts: ['2', '3'], explicitBounds: [1] },
                      ],
                    },
                  },
                  {
                    name: 'e',
                    exponentialHistogram: {
                      dataPoints: [{ attributes: [jsonString('y', '2')], timeUnixNano: jsonNanos(T), count: '4', sum: 8, scale: -3, zeroCount: '1' }],
                    },
                  },
                  {
                    name: 'q',
                    summary: {
                      dataPoints: [
                        {
                          attributes: [jsonString('z', '3')],
                          timeUnixNano: jsonNanos(T),
                          count: '60',
                          sum: 30,
                          quantileValues: [
                            { quantile: 0, value: 0.1 },
                            { quantile: 1, value: 2 },
                          ],
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(rest).toEqual([]);
    expect(resource!.attributes).toEqual({ 'cloud.region': 'eu-west-1' });
    const [g, s, h, e, q] = resource!.metrics;
    expect(g).toMatchObject({ name: 'g', kind: 'gauge' });
    expect(g!.points[0]).toMatchObject({
      attributes: { s: 'text', i: '-42', b: 'true', d: '1.5', a: '["x","y"]', k: '{"inner":"v"}' },
      timeMs: T,
      value: -7,
      flags: 0,
    });
    expect(g!.points[1]).toMatchObject({ value: 2.25, flags: 1 });
    expect(s).toMatchObject({ kind: 'sum', monotonic: true, temporality: 2, points: [{ value: 9 }] });
    expect(h).toMatchObject({ kind: 'histogram', temporality: 1, points: [{ attributes: { x: '1' }, count: 5, sum: 3.5, bucketCounts: [2, 3], bounds: [1] }] });
    expect(e).toMatchObject({ kind: 'exponentialHistogram', points: [{ attributes: { y: '2' }, count: 4, sum: 8 }] });
    expect(q).toMatchObject({
      kind: 'summary',
      points: [
        {
          attributes: { z: '3' },
          count: 60,
          sum: 30,
          quantiles: [
            { quantile: 0, value: 0.1 },
            { quantile: 1, value: 2 },
          ],
        },
      ],
    });
  });
});
