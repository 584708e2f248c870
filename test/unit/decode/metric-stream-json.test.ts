import { describe, expect, it } from 'vitest';
import { jsonMetricRecordToFrames, isJsonMetricRecord } from '../../../src/decode/metric-stream-json.ts';
import { RecordError } from '../../../src/decode/record-error.ts';
import { decodeToJson } from '../../../src/otlp/schema.ts';
import { lengthPrefixed, metricStreamRequest } from '../../helpers/cloudwatch-fixtures.ts';

const line = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    metric_stream_name: 'all',
    account_id: '123456789012',
    region: 'eu-west-1',
    namespace: 'AWS/SQS',
    metric_name: 'NumberOfMessagesSent',
    dimensions: { QueueName: 'orders' },
    timestamp: 1_795_000_000_000,
    value: { count: 1, sum: 5, min: 5, max: 5, p99: 5 },
    unit: 'Count',
    ...over,
  });

describe('metric-stream JSON records', () => {
  it('are told from OpenTelemetry frames by their first byte', () => {
    expect(isJsonMetricRecord(Buffer.from(`\n ${line()}`))).toBe(true);
    expect(isJsonMetricRecord(lengthPrefixed(metricStreamRequest({ account: '1', region: 'r', streamName: 's' }, [])))).toBe(false);
  });

  it('become one frame per account, region and stream, in the OpenTelemetry 1.0 shape', () => {
    const record = Buffer.from([line(), line({ metric_name: 'NumberOfMessagesReceived' }), line({ account_id: '210987654321' }), ''].join('\n'));
    const frames = jsonMetricRecordToFrames(record).map((f) => decodeToJson('metrics', f) as any);
    expect(frames).toHaveLength(2);
    expect(frames[0].resourceMetrics[0].scopeMetrics[0].metrics.map((m: any) => m.name)).toEqual([
      'amazonaws.com/AWS/SQS/NumberOfMessagesSent',
      'amazonaws.com/AWS/SQS/NumberOfMessagesReceived',
    ]);
    const dp = frames[0].resourceMetrics[0].scopeMetrics[0].metrics[0].summary.dataPoints[0];
    expect(dp.attributes).toEqual([
      { key: 'Namespace', value: { stringValue: 'AWS/SQS' } },
      { key: 'MetricName', value: { stringValue: 'NumberOfMessagesSent' } },
      { key: 'Dimensions', value: { kvlistValue: { values: [{ key: 'QueueName', value: { stringValue: 'orders' } }] } } },
    ]);
    expect(dp.quantileValues).toEqual([{ value: 5 }, { quantile: 0.99, value: 5 }, { quantile: 1, value: 5 }]);
  });

  it.each([
    ['a line that is not JSON', '{"account_id":', 'is not JSON'],
    ['a line without a namespace', line({ namespace: undefined }), 'no string "namespace"'],
    ['a value that is not a number', line({ value: { sum: 'lots' } }), 'value.sum is not a number'],
  ])('refuse %s, naming the line', (_name, text, message) => {
    expect(() => jsonMetricRecordToFrames(Buffer.from(`${line()}\n${text}`))).toThrow(RecordError);
    expect(() => jsonMetricRecordToFrames(Buffer.from(`${line()}\n${text}`))).toThrow(`line 2`);
    expect(() => jsonMetricRecordToFrames(Buffer.from(`${line()}\n${text}`))).toThrow(message);
  });
});
