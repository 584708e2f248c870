import { describe, expect, it } from 'vitest';
import { LogMetricAggregator, collectLogMetrics, parseEmf, parseLambdaReport } from '../../../src/decode/log-metrics.ts';
import { appendMetricStreamRecord } from '../../../src/decode/metric-stream.ts';
import { lengthPrefix } from '../../../src/decode/length-prefixed.ts';
import type { CloudWatchLogsMessage } from '../../../src/decode/cloudwatch-logs-message.ts';
import { debugLines } from '../../../src/export/debug.ts';
import { decodeToJson } from '../../../src/otlp/schema.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { logsMessage } from '../../helpers/cloudwatch-fixtures.ts';

const REPORT_COLD =
  'REPORT RequestId: 6f1c2f3a-0b1d-4e5f-8a9b-0c1d2e3f4a5b\tDuration: 50.12 ms\tBilled Duration: 51 ms\tMemory Size: 512 MB\tMax Memory Used: 87 MB\tInit Duration: 180.25 ms\t\n';
const REPORT_WARM =
  'REPORT RequestId: 7a2d3e4f-1c2e-4f60-9bac-1d2e3f4a5b6c\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 91 MB\t\n';
const REPORT_JSON = JSON.stringify({
  time: '2026-11-22T08:00:00.000Z',
  type: 'platform.report',
  record: {
    requestId: '8b3e4f50-2d3f-4071-8cbd-2e3f4a5b6c7d',
    metrics: { durationMs: 30, billedDurationMs: 30, memorySizeMB: 512, maxMemoryUsedMB: 95, initDurationMs: 210.5 },
    status: 'success',
  },
});
/** As the CloudWatch documentation's Embedded Metric Format example lays it out: two dimension sets, one array value. */
const EMF = JSON.stringify({
  _aws: {
    Timestamp: 1_795_000_000_500,
    CloudWatchMetrics: [
      {
        Namespace: 'shop',
        Dimensions: [['Service'], ['Service', 'Operation']],
        Metrics: [
          { Name: 'Latency', Unit: 'Milliseconds' },
          { Name: 'Orders', Unit: 'Count' },
          { Name: 'Missing', Unit: 'Count' },
        ],
      },
    ],
  },
  Service: 'checkout',
  Operation: 'PlaceOrder',
  Latency: [12, 30, 18],
  Orders: 1,
  requestId: '989ffbf8-9ace-4817-a57c-e4dd734019ee',
});

function metricsOf(messages: CloudWatchLogsMessage[], kinds: Array<'lambda-report' | 'emf'> = ['lambda-report', 'emf']) {
  const aggregator = new LogMetricAggregator();
  collectLogMetrics(messages, 'eu-west-1', new Set(kinds), aggregator);
  const batch = new OtlpBatch();
  if (aggregator.size > 0) appendMetricStreamRecord(lengthPrefix(aggregator.frames()), batch, { resourceAttributes: [] });
  return [...debugLines({ signal: 'metrics', payload: batch.take().payload })];
}

const lambda = (...messages: string[]) =>
  logsMessage({
    logGroup: '/aws/lambda/checkout',
    events: messages.map((message, i) => ({ id: String(i), timestamp: 1_795_000_000_000 + i * 1000, message })),
  }) as unknown as CloudWatchLogsMessage;

describe('Lambda REPORT lines', () => {
  it('are read in the text format and in the JSON log format', () => {
    expect(Object.fromEntries(parseLambdaReport(REPORT_COLD)!)).toEqual({
      Duration: 50.12,
      'Billed Duration': 51,
      'Memory Size': 512,
      'Max Memory Used': 87,
      'Init Duration': 180.25,
    });
    expect(Object.fromEntries(parseLambdaReport(REPORT_JSON)!)).toEqual({
      Duration: 30,
      'Billed Duration': 30,
      'Memory Size': 512,
      'Max Memory Used': 95,
      'Init Duration': 210.5,
    });
    expect(parseLambdaReport('START RequestId: 1 Version: $LATEST')).toBeUndefined();
    expect(parseLambdaReport('{"type":"platform.report","record":{}}')).toBeUndefined();
  });

  it('become one summary per metric and function per record (count, sum, min, max), and delta counts of invocations and cold starts', () => {
    const points = metricsOf([lambda('START RequestId: x', REPORT_COLD, 'hello', REPORT_WARM)]);
    const byName = Object.fromEntries(points.map((p) => [p.metric, p]));
    expect(Object.keys(byName).sort()).toEqual([
      'aws.lambda.billed_duration',
      'aws.lambda.cold_starts',
      'aws.lambda.duration',
      'aws.lambda.init_duration',
      'aws.lambda.invocations',
      'aws.lambda.max_memory_used',
      'aws.lambda.memory_size',
    ]);
    expect(byName['aws.lambda.invocations']).toMatchObject({ type: 'sum', asDouble: 2, attributes: { FunctionName: 'checkout' } });
    expect(byName['aws.lambda.cold_starts']).toMatchObject({
      type: 'sum',
      asDouble: 1,
      startTimeUnixNano: '1795000001000000000',
      timeUnixNano: '1795000003000000000',
    });
    expect(byName['aws.lambda.duration']).toMatchObject({
      type: 'summary',
      unit: 'ms',
      count: '2',
      sum: 62.62,
      startTimeUnixNano: '1795000001000000000',
      timeUnixNano: '1795000003000000000',
      quantileValues: [{ value: 12.5 }, { quantile: 1, value: 50.12 }],
      attributes: { Namespace: 'AWS/Lambda', MetricName: 'Duration', FunctionName: 'checkout' },
      resource: { 'cloud.provider': 'aws', 'cloud.account.id': '123456789012', 'cloud.region': 'eu-west-1' },
    });
    expect(byName['aws.lambda.init_duration']).toMatchObject({ count: '1', sum: 180.25 });
    expect(byName['aws.lambda.max_memory_used']).toMatchObject({ unit: 'MBy', quantileValues: [{ value: 87 }, { quantile: 1, value: 91 }] });
  });

  it('keep the series of each account and region an event names in its extracted fields apart', () => {
    const m = lambda(REPORT_COLD, REPORT_WARM, REPORT_WARM);
    m.logEvents[1]!.extractedFields = { '@aws.account': '222222222222', '@aws.region': 'us-east-1' };
    m.logEvents[2]!.extractedFields = { '@aws.account': '222222222222' };
    const invocations = metricsOf([m])
      .filter((p) => p.metric === 'aws.lambda.invocations')
      .map((p) => [p.resource['cloud.account.id'], p.resource['cloud.region'], p.asDouble]);
    expect(invocations.sort()).toEqual([
      ['123456789012', 'eu-west-1', 1],
      ['222222222222', 'eu-west-1', 1],
      ['222222222222', 'us-east-1', 1],
    ]);
  });

  it('count invocations and cold starts as delta monotonic sums', () => {
    const aggregator = new LogMetricAggregator();
    collectLogMetrics([lambda(REPORT_COLD, REPORT_WARM)], 'eu-west-1', new Set(['lambda-report']), aggregator);
    const decoded = aggregator.frames().flatMap((f) => (decodeToJson('metrics', f) as any).resourceMetrics[0].scopeMetrics[0].metrics) as Array<
      Record<string, any>
    >;
    const coldStarts = decoded.find((m) => m.name === 'aws.lambda.cold_starts')!;
    expect(coldStarts.sum).toMatchObject({ aggregationTemporality: 1, isMonotonic: true });
  });

  it('are read only from /aws/lambda/<function> log groups, and only when asked for', () => {
    const elsewhere = logsMessage({ logGroup: '/app/other', events: [{ timestamp: 1, message: REPORT_COLD }] }) as unknown as CloudWatchLogsMessage;
    expect(metricsOf([elsewhere])).toEqual([]);
    expect(metricsOf([lambda(REPORT_COLD)], ['emf'])).toEqual([]);
  });
});

describe('Embedded Metric Format lines', () => {
  it('give the metrics they declare for every dimension set, named as metric streams name them, arrays as statistic sets', () => {
    const parsed = parseEmf(EMF)!;
    expect(parsed.timeMs).toBe(1_795_000_000_500);
    expect(parsed.metrics.map((m) => [m.name, m.values, m.dimensions])).toEqual([
      ['Latency', [12, 30, 18], [['Service', 'checkout']]],
      [
        'Latency',
        [12, 30, 18],
        [
          ['Service', 'checkout'],
          ['Operation', 'PlaceOrder'],
        ],
      ],
      ['Orders', [1], [['Service', 'checkout']]],
      [
        'Orders',
        [1],
        [
          ['Service', 'checkout'],
          ['Operation', 'PlaceOrder'],
        ],
      ],
    ]);
    const points = metricsOf([lambda(`${EMF}\n`)], ['emf']);
    expect(points).toHaveLength(4);
    expect(points[1]).toMatchObject({
      metric: 'amazonaws.com/shop/Latency',
      unit: 'Milliseconds',
      count: '3',
      sum: 60,
      timeUnixNano: '1795000000500000000',
      quantileValues: [{ value: 12 }, { quantile: 1, value: 30 }],
      attributes: { Namespace: 'shop', MetricName: 'Latency', Service: 'checkout', Operation: 'PlaceOrder', 'aws.log.group.name': '/aws/lambda/checkout' },
    });
  });

  it('skip what CloudWatch would skip, and are no EMF without the _aws metadata', () => {
    const noDimensionValue = JSON.stringify({ _aws: { CloudWatchMetrics: [{ Namespace: 'n', Dimensions: [['Service']], Metrics: [{ Name: 'x' }] }] }, x: 1 });
    expect(parseEmf(noDimensionValue)!.metrics).toEqual([]);
    const noDimensions = JSON.stringify({ _aws: { CloudWatchMetrics: [{ Namespace: 'n', Metrics: [{ Name: 'x' }] }] }, x: 'not a number', y: 2 });
    expect(parseEmf(noDimensions)!.metrics).toEqual([]);
    expect(parseEmf('{"level":"info","msg":"_aws is mentioned"}')).toBeUndefined();
    expect(parseEmf('{"_aws": broken')).toBeUndefined();
  });
});
