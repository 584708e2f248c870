import { describe, expect, it } from 'vitest';
import { appendMetricStreamRecord, type MetricStreamContext } from '../../../src/decode/metric-stream.ts';
import { RecordError } from '../../../src/decode/record-error.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { decodeToJson, otlpTypes } from '../../../src/otlp/schema.ts';
import { encodedAttribute } from '../../../src/otlp/wire.ts';
import { lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../../helpers/cloudwatch-fixtures.ts';

const id = { account: '123456789012', region: 'eu-west-1', streamName: 'all' };
const noExtras: MetricStreamContext = { resourceAttributes: [] };

function rewrite(record: Uint8Array, ctx = noExtras) {
  const batch = new OtlpBatch();
  appendMetricStreamRecord(record, batch, ctx);
  const { payload, items } = batch.take();
  return { json: decodeToJson('metrics', payload) as any, items };
}

/** What the rewrite must produce, computed on decoded objects: the Dimensions kvlist spread into attributes. */
function expectedFrom(...frames: Uint8Array[]) {
  const resourceMetrics = frames.flatMap((f) => (decodeToJson('metrics', f) as any).resourceMetrics);
  for (const rm of resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        for (const dp of m.summary.dataPoints) {
          const dims = dp.attributes.find((a: any) => a.key === 'Dimensions').value.kvlistValue.values;
          dp.attributes = [...dp.attributes.filter((a: any) => a.key !== 'Dimensions'), ...dims];
        }
      }
    }
  }
  return { resourceMetrics };
}

describe('appendMetricStreamRecord', () => {
  it('decodes every frame of a record and keeps everything CloudWatch sent but the Dimensions kvlist', () => {
    const frames = [metricStreamRequest(id, sampleDatapoints(6)), metricStreamRequest(id, sampleDatapoints(1)), metricStreamRequest(id, sampleDatapoints(300))];
    const { json, items } = rewrite(lengthPrefixed(...frames));
    expect(items).toBe(307);
    expect(json).toEqual(expectedFrom(...frames));
  });

  it('makes each CloudWatch dimension a data point attribute of its own', () => {
    const [point] = sampleDatapoints(4).slice(3);
    const { json } = rewrite(lengthPrefixed(metricStreamRequest(id, [point!])));
    const attrs = json.resourceMetrics[0].scopeMetrics[0].metrics[0].summary.dataPoints[0].attributes;
    expect(attrs).toEqual([
      { key: 'Namespace', value: { stringValue: 'AWS/ApplicationELB' } },
      { key: 'MetricName', value: { stringValue: 'RequestCount' } },
      { key: 'LoadBalancer', value: { stringValue: 'app/web/50dc6c495c0c9188' } },
      { key: 'TargetGroup', value: { stringValue: 'targetgroup/web/73e2d6bc24d8a067' } },
    ]);
  });

  it('renames a dimension that collides with an attribute instead of losing either', () => {
    const point = { ...sampleDatapoints(1)[0]!, dimensions: { Namespace: 'custom', Host: 'a' } };
    const { json } = rewrite(lengthPrefixed(metricStreamRequest(id, [point])));
    const attrs = json.resourceMetrics[0].scopeMetrics[0].metrics[0].summary.dataPoints[0].attributes;
    expect(attrs).toEqual([
      { key: 'Namespace', value: { stringValue: 'AWS/EC2' } },
      { key: 'MetricName', value: { stringValue: 'CPUUtilization' } },
      { key: 'Dimensions.Namespace', value: { stringValue: 'custom' } },
      { key: 'Host', value: { stringValue: 'a' } },
    ]);
  });

  it('keeps the exact timestamps, count, sum and quantiles', () => {
    const point = { ...sampleDatapoints(1)[0]!, timeMs: 1_795_000_123_456, count: 2 ** 40 + 3, sum: 0.1 + 0.2, min: -1e-300, max: 1.7976931348623157e308 };
    const { json } = rewrite(lengthPrefixed(metricStreamRequest(id, [point])));
    const dp = json.resourceMetrics[0].scopeMetrics[0].metrics[0].summary.dataPoints[0];
    expect(dp.timeUnixNano).toBe('1795000123456000000');
    expect(dp.startTimeUnixNano).toBe('1795000063456000000');
    expect(dp.count).toBe(String(2 ** 40 + 3));
    expect(dp.sum).toBe(0.1 + 0.2);
    expect(dp.quantileValues).toEqual([{ value: -1e-300 }, { quantile: 0.99, value: expect.any(Number) }, { quantile: 1, value: 1.7976931348623157e308 }]);
  });

  it('adds extra resource attributes without overwriting those CloudWatch sent', () => {
    const ctx = {
      resourceAttributes: [encodedAttribute('cloud.region', 'WRONG'), encodedAttribute('service.name', 'cloudwatch'), encodedAttribute('env', 'prod')],
    };
    const { json } = rewrite(lengthPrefixed(metricStreamRequest(id, sampleDatapoints(1))), ctx);
    expect(json.resourceMetrics[0].resource.attributes).toEqual([
      { key: 'cloud.provider', value: { stringValue: 'aws' } },
      { key: 'cloud.account.id', value: { stringValue: '123456789012' } },
      { key: 'cloud.region', value: { stringValue: 'eu-west-1' } },
      { key: 'aws.exporter.arn', value: { stringValue: 'arn:aws:cloudwatch:eu-west-1:123456789012:metric-stream/all' } },
      { key: 'service.name', value: { stringValue: 'cloudwatch' } },
      { key: 'env', value: { stringValue: 'prod' } },
    ]);
  });

  it('rewrites gauge, sum and histogram data points too, and copies fields it does not know', () => {
    const dims = { key: 'Dimensions', value: { kvlistValue: { values: [{ key: 'QueueName', value: { stringValue: 'q' } }] } } };
    const request = otlpTypes.ExportMetricsServiceRequest.encode(
      otlpTypes.ExportMetricsServiceRequest.fromObject({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                scope: { name: 'custom', version: '1' },
                metrics: [
                  { name: 'g', gauge: { dataPoints: [{ asDouble: 1.5, attributes: [dims] }] } },
                  { name: 's', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ asInt: '7', attributes: [dims] }] } },
                  {
                    name: 'h',
                    histogram: { aggregationTemporality: 1, dataPoints: [{ count: '3', bucketCounts: ['1', '2'], explicitBounds: [5], attributes: [dims] }] },
                  },
                ],
              },
            ],
          },
        ],
      }),
    ).finish();
    const { json, items } = rewrite(lengthPrefixed(request));
    expect(items).toBe(3);
    const metrics = json.resourceMetrics[0].scopeMetrics[0].metrics;
    expect(json.resourceMetrics[0].scopeMetrics[0].scope).toEqual({ name: 'custom', version: '1' });
    for (const m of metrics) {
      const data = m.gauge ?? m.sum ?? m.histogram;
      expect(data.dataPoints[0].attributes).toEqual([{ key: 'QueueName', value: { stringValue: 'q' } }]);
    }
    expect(metrics[1].sum).toMatchObject({ aggregationTemporality: 2, isMonotonic: true });
    expect(metrics[2].histogram.dataPoints[0]).toMatchObject({ count: '3', bucketCounts: ['1', '2'], explicitBounds: [5] });
  });

  it('moves Dimensions wherever it stands and keeps the fields around it in order (Dimensions first, flags after the attributes)', () => {
    const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
    const T = otlpTypes.ExportMetricsServiceRequest;
    const frame = T.encode(
      T.fromObject({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'm',
                    summary: {
                      dataPoints: [
                        {
                          timeUnixNano: '1795000000000000000',
                          count: '2',
                          sum: 3,
                          flags: 1,
                          attributes: [
                            { key: 'Dimensions', value: { kvlistValue: { values: [str('QueueName', 'q'), str('Region', 'x')] } } },
                            str('Namespace', 'AWS/SQS'),
                            str('MetricName', 'NumberOfMessagesSent'),
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
    ).finish();
    const { json } = rewrite(lengthPrefixed(frame));
    expect(json).toEqual(expectedFrom(frame));
    expect(json.resourceMetrics[0].scopeMetrics[0].metrics[0].summary.dataPoints[0]).toMatchObject({
      flags: 1,
      attributes: [str('Namespace', 'AWS/SQS'), str('MetricName', 'NumberOfMessagesSent'), str('QueueName', 'q'), str('Region', 'x')],
    });
  });

  it('writes exact lengths when a rewrite moves a message across a length-prefix size (data points of 100 to 20,000 bytes)', () => {
    // Dimension values sized so that data points, metrics and the resource cross 128 and 16,384 bytes as the
    // Dimensions wrapper goes away: every length prefix firetap writes must still be the right one.
    for (const size of [100, 110, 120, 125, 130, 16_350, 16_370, 20_000]) {
      const point = { ...sampleDatapoints(1)[0]!, dimensions: { InstanceId: 'i'.repeat(size) } };
      const frame = metricStreamRequest(id, [point, point]);
      expect(rewrite(lengthPrefixed(frame)).json).toEqual(expectedFrom(frame));
    }
  });

  it('copies fields it does not know byte for byte (newer OTLP versions add fields)', () => {
    const frame = metricStreamRequest(id, sampleDatapoints(1));
    // resource_metrics is field 1 of the frame: re-wrap its content with an unknown field 99 (varint 5) appended.
    const inner = Buffer.from(frame.subarray(frame[1]! < 0x80 ? 2 : 3));
    const unknown = Buffer.from([0x98, 0x06, 0x05]);
    const content = Buffer.concat([inner, unknown]);
    const extended = Buffer.concat([Buffer.from([0x0a]), lengthPrefixed(content)]);
    const batch = new OtlpBatch();
    appendMetricStreamRecord(lengthPrefixed(extended), batch, noExtras);
    const out = Buffer.from(batch.take().payload);
    expect(out.subarray(out.length - 3)).toEqual(unknown);
    expect(decodeToJson('metrics', out)).toEqual(expectedFrom(frame));
  });

  it('refuses a record truncated mid-frame and leaves the batch as it was', () => {
    const batch = new OtlpBatch();
    appendMetricStreamRecord(lengthPrefixed(metricStreamRequest(id, sampleDatapoints(2))), batch, noExtras);
    const before = Buffer.from(batch.writer.finish());
    const whole = lengthPrefixed(metricStreamRequest(id, sampleDatapoints(5)), metricStreamRequest(id, sampleDatapoints(5)));
    const truncated = whole.subarray(0, whole.length - 40);
    expect(() => appendMetricStreamRecord(truncated, batch, noExtras)).toThrow(RecordError);
    expect(Buffer.from(batch.writer.finish())).toEqual(before);
    expect(batch.items).toBe(2);
  });

  it('refuses a frame that is not an ExportMetricsServiceRequest (the record [1, 2] of the OTel collector suite)', () => {
    expect(() => rewrite(Buffer.from([1, 2]))).toThrow(/frame 0 .* is not an OTLP ExportMetricsServiceRequest/);
  });

  it('refuses a frame whose nested length runs past the frame', () => {
    const frame = Buffer.from([0x0a, 0x05, 0x0a, 0x10, 0, 0, 0]); // resource_metrics { resource: len 16 } in 5 bytes
    expect(() => rewrite(lengthPrefixed(frame))).toThrow(/runs past the end/);
  });

  it('refuses a string that is not UTF-8, which strict OTLP decoders would reject (found by fuzzing)', () => {
    const frame = Buffer.from(metricStreamRequest(id, sampleDatapoints(1)));
    const at = frame.indexOf('Namespace');
    frame[at] = 0xce; // 'N' → a lone UTF-8 lead byte
    expect(() => rewrite(lengthPrefixed(frame))).toThrow(/not valid UTF-8/);
  });

  it('refuses a known field with the wrong wire type instead of copying it through', () => {
    // Metric.name (field 1) as a varint.
    const metric = Buffer.from([0x08, 0x01]);
    const frame = Buffer.concat([Buffer.from([0x0a, 6, 0x12, 4, 0x12, 2]), metric]);
    expect(() => rewrite(lengthPrefixed(frame))).toThrow(/wire type 0/);
  });

  it('refuses a data point with more attributes than any CloudWatch metric has', () => {
    const dimensions = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`D${i}`, 'v']));
    const point = { ...sampleDatapoints(1)[0]!, dimensions };
    expect(() => rewrite(lengthPrefixed(metricStreamRequest(id, [point])))).toThrow(/more than 128 attributes/);
  });

  it('refuses a record of more frames than the limit', () => {
    expect(() => rewrite(Buffer.alloc(70_000))).toThrow(/more than 65536 frames/);
  });

  it('accepts an empty record and a frame with no data points', () => {
    expect(rewrite(Buffer.alloc(0)).items).toBe(0);
    expect(rewrite(lengthPrefixed(Buffer.alloc(0))).items).toBe(0);
  });
});
