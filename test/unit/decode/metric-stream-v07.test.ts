import { describe, expect, it } from 'vitest';
import { isOpenTelemetry07Record } from '../../../src/decode/metric-stream-v07.ts';
import { RecordError } from '../../../src/decode/record-error.ts';
import { debugLines } from '../../../src/export/debug.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import type { MetricFormat } from '../../../src/decode/formats.ts';
import { RECORD_CODECS } from '../../../src/pipeline/record-codecs.ts';
import { recordContext } from '../../helpers/record-context.ts';
import { lengthPrefixed, metricStreamRequest, metricStreamRequestV07, sampleDatapoints } from '../../helpers/cloudwatch-fixtures.ts';

const id = { account: '123456789012', region: 'eu-west-1', streamName: 'legacy' };

function decode(record: Buffer, metricFormat: MetricFormat = 'auto') {
  const ctx = recordContext({ metricFormat, region: undefined, account: undefined });
  const batch = new OtlpBatch();
  RECORD_CODECS.metrics(record.toString('base64'), batch, ctx);
  return [...debugLines({ signal: 'metrics', payload: batch.take().payload })];
}

describe('metric streams in the OpenTelemetry 0.7.0 format', () => {
  const points = sampleDatapoints(7).map((p, i) => (i === 0 ? { ...p, percentiles: { 0.99: 0.9 } } : p));
  const v07 = lengthPrefixed(metricStreamRequestV07(id, points.slice(0, 4)), metricStreamRequestV07(id, points.slice(4)));
  const v10 = lengthPrefixed(metricStreamRequest(id, points.slice(0, 4)), metricStreamRequest(id, points.slice(4)));

  it('are forwarded exactly as the same data in the 1.0 format, detected or named', () => {
    const expected = decode(v10);
    expect(expected).toHaveLength(7);
    expect(decode(v07)).toEqual(expected);
    expect(decode(v07, 'opentelemetry0.7')).toEqual(expected);
    expect(expected[0]!.attributes).toMatchObject({ Namespace: 'AWS/EC2', MetricName: expect.any(String) });
  });

  it('are told apart from 1.0 records by their first data point', () => {
    expect(isOpenTelemetry07Record(v07)).toBe(true);
    expect(isOpenTelemetry07Record(v10)).toBe(false);
    expect(isOpenTelemetry07Record(Buffer.from([0x05, 0x01]))).toBe(false);
  });

  it('are refused on a route told 1.0, and a 0.7.0 kind CloudWatch never writes is refused by name', () => {
    expect(() => decode(v07, 'opentelemetry1.0')).toThrow('record is OpenTelemetry 0.7.0');
    const gauge = lengthPrefixed(metricStreamRequestV07(id, points.slice(0, 1), { doubleSummary: undefined, intGauge: Buffer.from([0x0a, 0x00]) }));
    expect(() => decode(gauge, 'opentelemetry0.7')).toThrow(RecordError);
    expect(() => decode(gauge, 'opentelemetry0.7')).toThrow('holds int_gauge');
  });
});
