import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpTypes, decodeToJson } from '../../src/otlp/schema.ts';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { firehoseBody, lengthPrefixed } from '../helpers/cloudwatch-fixtures.ts';

/**
 * Peers' public test payloads (test/fixtures/conformance, each folder with its MANIFEST.md and licence),
 * read at test time. Each case asserts what the MANIFEST says the payload must yield; where firetap's
 * contract differs on purpose, the case asserts firetap's behaviour and says why.
 */
const ROOT = resolve(import.meta.dirname, '../fixtures/conformance');

const ALLOY = join(ROOT, 'alloy-awsfirehose');
const VECTOR = join(ROOT, 'vector-firehose');
const OTEL = join(ROOT, 'otelcol-awsfirehose/receiver/awsfirehosereceiver/internal/unmarshaler');
const read = (path: string) => readFileSync(path);

let sink: OtlpSink;
beforeAll(async () => {
  sink = await new OtlpSink().start();
});
afterAll(() => sink.stop());

async function send(url: string, body: string | Buffer, headers: Record<string, string>) {
  sink.received.length = 0;
  const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
  const res = await t.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: body });
  return { res, t, logs: sink.lines('logs'), metrics: sink.lines('metrics') };
}

describe('Grafana Alloy loki.source.awsfirehose payloads', () => {
  const headers = {
    'x-amz-firehose-request-id': '86208cf6-2bcc-47e6-9010-02ca9f44a025',
    'x-amz-firehose-source-arn': 'arn:aws:firehose:us-east-2:123:deliverystream/aws_firehose_test_stream',
    'x-amz-firehose-protocol-version': '1.0',
    'user-agent': 'Amazon Kinesis Data Firehose Agent/1.0',
  };
  // Alloy runs every case with a plain and with a gzipped body; both must give the same result.
  const variants = [
    ['plain', (b: Buffer) => b, {}],
    ['gzipped', (b: Buffer) => gzipSync(b), { 'content-encoding': 'gzip' }],
  ] as const;

  describe.each(variants)('%s body', (_name, encode, extraHeaders) => {
    const post = (file: string) => send('/firehose/logs', encode(read(join(ALLOY, file))), { ...headers, ...extraHeaders });

    it('cw_logs_with_only_data_messages.json yields the 13 Lambda lines verbatim, trailing newlines kept', async () => {
      const { res, logs } = await post('cw_logs_with_only_data_messages.json');
      expect(res.statusCode).toBe(200);
      expect(res.json().requestId).toBe(headers['x-amz-firehose-request-id']);
      expect(logs).toHaveLength(13);
      expect(logs[0]!.body).toMatch(/^INIT_START Runtime Version/);
      expect(logs.every((l) => l.body.endsWith('\n'))).toBe(true);
      expect(logs[0]!.resource).toMatchObject({
        'cloud.account.id': '366620023056',
        'cloud.region': 'us-east-2', // from the Source-ARN header
        'aws.log.group.names': ['/aws/lambda/logging-lambda'],
        'aws.log.stream.names': ['2023/05/18/[$LATEST]405d340d30f844c4ad376392489343f5'],
      });
    });

    it('cw_logs_mixed.json yields the 13 data events with their own timestamps (the control message is dropped)', async () => {
      // Alloy emits the CONTROL_MESSAGE as a 14th entry; CloudWatch sends it only to check the
      // destination, so firetap acknowledges it and forwards nothing (as the OTel collector does).
      const { res, logs } = await post('cw_logs_mixed.json');
      expect(res.statusCode).toBe(200);
      expect(logs).toHaveLength(13);
      expect(logs[0]!.timeUnixNano).toBe('1684424003641000000');
      expect(logs[12]!.timeUnixNano).toBe('1684424007494000000');
    });

    it('cw_logs_with_only_control_messages.json is acknowledged and forwards nothing', async () => {
      const { res, logs } = await post('cw_logs_with_only_control_messages.json');
      expect(res.statusCode).toBe(200);
      expect(logs).toHaveLength(0);
    });

    it('cw_logs_control_and_bad_records.json is acknowledged and counts the bad base64 record', async () => {
      const { res, t } = await post('cw_logs_control_and_bad_records.json');
      expect(res.statusCode).toBe(200);
      const metrics = (await t.app.inject({ url: '/metrics' })).body;
      expect(metrics).toContain('firetap_records_rejected_total{signal="logs",reason="base64"} 1');
    });

    it.each([
      [
        'direct_put.json',
        [
          '{"CHANGE":-0.23,"PRICE":4.8,"TICKER_SYMBOL":"NGC","SECTOR":"HEALTHCARE"}',
          '{"CHANGE":6.76,"PRICE":82.56,"TICKER_SYMBOL":"SLW","SECTOR":"ENERGY"}',
          '{"CHANGE":-5.92,"PRICE":199.08,"TICKER_SYMBOL":"HJV","SECTOR":"ENERGY"}',
        ],
      ],
      ['direct_put_with_non_json_message.json', ['hola esto es una prueba']],
    ])("%s (Direct PUT) yields one log record per record, its text verbatim, on the delivery stream's resource", async (file, lines) => {
      const { res, logs } = await post(file);
      expect(res.statusCode).toBe(200);
      expect(res.json().requestId).toBe(headers['x-amz-firehose-request-id']);
      expect(logs.map((l) => l.body)).toEqual(lines);
      expect(logs[0]!.resource).toEqual({ 'cloud.provider': 'aws', 'cloud.account.id': '123', 'cloud.region': 'us-east-2' });
    });

    it.each(['direct_put.json', 'direct_put_with_non_json_message.json'])('%s is refused on a route told ?format=cloudwatch-logs, naming why', async (file) => {
      // Where only CloudWatch Logs may arrive, anything else is refused (Firehose keeps the data, retries,
      // then backs it up to S3) with a message saying what the record was not.
      const res = await send('/firehose/logs?format=cloudwatch-logs', encode(read(join(ALLOY, file))), { ...headers, ...extraHeaders });
      expect(res.res.statusCode).toBe(400);
      expect(res.res.json().errorMessage).toContain('could be decoded as CloudWatch Logs subscription data');
    });
  });
});

describe('Vector aws_kinesis_firehose payloads', () => {
  const headers = {
    'x-amz-firehose-protocol-version': '1.0',
    'x-amz-firehose-request-id': 'e17265d6-97af-4938-982e-90d5614c4242',
    'x-amz-firehose-source-arn': 'arn:aws:firehose:us-east-1:111111111111:deliverystream/test',
  };
  const record = read(join(VECTOR, 'test_cloudwatch_record.json'));
  const expectedEvents = JSON.parse(record.toString('utf8')).logEvents as Array<{ message: string; timestamp: number }>;

  it.each([
    ['gzipped', gzipSync(record)],
    ['plain (Firehose decompression on)', record],
  ])('test_cloudwatch_record.json sent %s yields both log events', async (_name, data) => {
    const { res, logs } = await send('/firehose/logs', firehoseBody([data], headers['x-amz-firehose-request-id']), headers);
    expect(res.statusCode).toBe(200);
    expect(logs.map((l) => l.body)).toEqual(expectedEvents.map((e) => e.message));
    expect(logs[0]!.resource['aws.log.group.names']).toEqual(['/jesse/test']);
  });

  it('test_cloudwatch_record.json inside a gzipped request body works too', async () => {
    const { res, logs } = await send('/firehose/logs', gzipSync(firehoseBody([record], 'x')), { ...headers, 'content-encoding': 'gzip' });
    expect(res.statusCode).toBe(200);
    expect(logs).toHaveLength(2);
  });

  it('docs_example_cloudwatch_request.json yields the events of the record Vector shows', async () => {
    // Vector emits the whole gunzipped record as one event; firetap emits one log record per log event.
    const expected = JSON.parse(JSON.parse(read(join(VECTOR, 'docs_example_cloudwatch_expected_event.json')).toString('utf8')).message);
    const { res, logs } = await send('/firehose/logs', read(join(VECTOR, 'docs_example_cloudwatch_request.json')), headers);
    expect(res.statusCode).toBe(200);
    expect(res.json().requestId).toBe(headers['x-amz-firehose-request-id']);
    expect(logs.map((l) => [l.body, l.timeUnixNano, l.attributes['log.record.uid']])).toEqual(
      expected.logEvents.map((e: { message: string; timestamp: number; id: string }) => [e.message, `${e.timestamp}000000`, e.id]),
    );
    expect(logs[0]!.resource).toMatchObject({ 'cloud.account.id': '111111111111', 'cloud.region': 'us-east-1' });
  });

  it('test_common_attributes_header.json becomes resource attributes', async () => {
    const common = read(join(VECTOR, 'test_common_attributes_header.json')).toString('utf8').trim();
    const { logs } = await send('/firehose/logs', firehoseBody([gzipSync(record)], 'x'), { ...headers, 'x-amz-firehose-common-attributes': common });
    expect(logs[0]!.resource).toMatchObject({ environment: 'testing', application_group: 'tymur_test' });
  });
});

describe('OpenTelemetry Collector awsfirehosereceiver payloads', () => {
  const headers = { 'x-amz-firehose-request-id': 'otel-conformance', 'x-amz-firehose-protocol-version': '1.0' };
  const cwlog = (file: string, url = '/firehose/logs') =>
    send(url, firehoseBody([gzipSync(read(join(OTEL, 'cwlog/testdata', file)))], 'otel-conformance'), headers);
  const resources = (logs: Array<Record<string, any>>) =>
    [...new Set(logs.map((l) => JSON.stringify([l.resource['cloud.account.id'], l.resource['cloud.region'] ?? null])))].map((s) => JSON.parse(s));

  it('cwlog single_record yields 2 log records with the semantic-convention attributes', async () => {
    const { res, logs } = await cwlog('single_record');
    expect(res.statusCode).toBe(200);
    expect(logs).toHaveLength(2);
    expect(logs[0]!.resource).toMatchObject({
      'cloud.provider': 'aws',
      'cloud.account.id': '123',
      'aws.log.group.names': ['test'],
      'aws.log.stream.names': ['test'],
    });
    expect(new Date(Number(BigInt(logs[0]!.timeUnixNano) / 1_000_000n)).toISOString()).toBe('2024-09-05T13:47:15.523Z');
  });

  it('cwlog only_control is acknowledged with nothing forwarded', async () => {
    const { res, logs } = await cwlog('only_control');
    expect(res.statusCode).toBe(200);
    expect(logs).toHaveLength(0);
  });

  it("cwlog invalid_records is refused with 400 where the route is told ?format=cloudwatch-logs (the receiver's cwlogs encoding)", async () => {
    const { res } = await cwlog('invalid_records', '/firehose/logs?format=cloudwatch-logs');
    expect(res.statusCode).toBe(400);
    expect(res.json().errorMessage).toContain('no messageType');
  });

  it('cwlog invalid_records (a gzipped JSON line that is no subscription message) is forwarded as a raw line by format detection', async () => {
    const { res, logs } = await cwlog('invalid_records');
    expect(res.statusCode).toBe(200);
    expect(logs).toHaveLength(1);
    expect(JSON.parse(logs[0]!.body)).toHaveProperty('TICKER_SYMBOL');
  });

  it.each([
    ['extracted_fields_account_id', [['999888777666', null]]],
    ['extracted_fields_region', [['123', 'us-west-2']]],
    ['extracted_fields_both', [['999888777666', 'us-west-2']]],
    ['two_records_same_extracted_fields', [['999888777666', 'us-west-2']]],
    [
      'two_records_different_extracted_fields',
      [
        ['111111111111', 'us-east-1'],
        ['222222222222', 'us-west-2'],
      ],
    ],
    [
      'two_records_one_with_extracted_fields',
      [
        ['999888777666', 'us-east-1'],
        ['123', null],
      ],
    ],
    ['two_records_none_with_extracted_fields', [['123', null]]],
  ])('cwlog %s groups log records under the right account and region', async (file, expected) => {
    const { res, logs } = await cwlog(file);
    expect(res.statusCode).toBe(200);
    expect(resources(logs)).toEqual(expected);
  });

  it.each([
    ['single_record', 1],
    ['multiple_records', 2],
    ['multiple_resources', 6],
  ])('legacy NDJSON cwlog %s yields %i log records', async (file, count) => {
    const { res, logs } = await cwlog(`legacy-ndjson/${file}`);
    expect(res.statusCode).toBe(200);
    expect(logs).toHaveLength(count);
  });

  it('legacy NDJSON some_invalid_records is refused as a whole record', async () => {
    // The old receiver skipped the bad line. firetap treats the record as the unit: a record with a
    // bad line is set aside whole (dead-lettered beside good records, refused when alone), so nothing
    // in it is half-delivered.
    const { res } = await cwlog('legacy-ndjson/some_invalid_records');
    expect(res.statusCode).toBe(400);
    expect(res.json().errorMessage).toContain('record line 2');
  });

  /** Golden pdata YAML → the ExportMetricsServiceRequest protobuf the upstream test builds from it. */
  const fromPdataYaml = (file: string) => {
    const object = parseYaml(read(join(OTEL, 'otlpmetricstream/testdata', file)).toString('utf8'));
    return otlpTypes.ExportMetricsServiceRequest.encode(otlpTypes.ExportMetricsServiceRequest.fromObject(object)).finish();
  };

  it.each([
    ['single_record.yaml', 1],
    ['multiple_records.yaml', 6],
  ])('otlpmetricstream %s is forwarded exactly as sent', async (file, resourceCount) => {
    // The collector overwrites every scope name with its own; firetap keeps what CloudWatch sent.
    const frame = fromPdataYaml(file);
    const { res, metrics } = await send('/firehose/metrics', firehoseBody([lengthPrefixed(frame)], 'otel-conformance'), headers);
    expect(res.statusCode).toBe(200);
    expect(metrics).toHaveLength(resourceCount);
    expect(decodeToJson('metrics', sink.received[0]!.body)).toEqual(decodeToJson('metrics', frame));
  });

  it('otlpmetricstream single_record.yaml three times in one record (the multi-frame case upstream missed) yields all three', async () => {
    const frame = fromPdataYaml('single_record.yaml');
    const { res, metrics } = await send('/firehose/metrics', firehoseBody([lengthPrefixed(frame, frame, frame)], 'otel-conformance'), headers);
    expect(res.statusCode).toBe(200);
    expect(metrics).toHaveLength(3);
  });

  it.each([
    ['cwmetricstream/testdata/single_record', [0, 0.9, 0.99, 1]],
    ['cwmetricstream/testdata/legacy/single_record', [0, 1]],
  ])('%s (metric-stream JSON format) yields its data point, shaped like the OpenTelemetry 1.0 output', async (file, quantiles) => {
    // The collector names the metric DiskWriteOps and renames InstanceId to service.instance.id; firetap gives
    // JSON streams exactly the shape it gives OpenTelemetry 1.0 streams, so dashboards work with either format.
    const { res, metrics } = await send('/firehose/metrics', firehoseBody([read(join(OTEL, file))], 'x'), headers);
    expect(res.statusCode).toBe(200);
    expect(metrics).toHaveLength(1);
    const [point] = metrics;
    expect(point).toMatchObject({
      metric: 'amazonaws.com/AWS/EC2/DiskWriteOps',
      unit: 'Seconds',
      type: 'summary',
      count: '3',
      sum: 20,
      timeUnixNano: '1611929698000000000',
      attributes: { Namespace: 'AWS/EC2', MetricName: 'DiskWriteOps', InstanceId: 'i-123456789012' },
      resource: {
        'cloud.provider': 'aws',
        'cloud.account.id': '1234567890',
        'cloud.region': 'us-east-1',
        'aws.cloudwatch.metric_stream_name': 'MyMetricStream',
      },
    });
    expect(point!.quantileValues.map((q: { quantile?: number }) => q.quantile ?? 0)).toEqual(quantiles);
  });

  it("firehoselog firehose_log.json (a Route 53 resolver record, Direct PUT) yields one log record on the source ARN's account and region", async () => {
    const source = 'arn:aws:firehose:us-east-1:123456789:deliverystream/testStream';
    const { res, logs } = await send('/firehose/logs', read(join(OTEL, 'firehoselog/testdata/firehose_log.json')), {
      ...headers,
      'x-amz-firehose-source-arn': source,
    });
    expect(res.statusCode).toBe(200);
    expect(logs).toHaveLength(1);
    expect(JSON.parse(logs[0]!.body)).toMatchObject({
      account_id: '428152502467',
      region: 'us-east-1',
      query_name: '172.144.52.116.in-addr.arpa.',
      query_type: 'PTR',
    });
    expect(logs[0]!.resource).toEqual({ 'cloud.provider': 'aws', 'cloud.account.id': '123456789', 'cloud.region': 'us-east-1' });
  });

  it('firehoselog firehose_log.json is refused on a route told ?format=cloudwatch-logs', async () => {
    const { res } = await send('/firehose/logs?format=cloudwatch-logs', read(join(OTEL, 'firehoselog/testdata/firehose_log.json')), headers);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ requestId: 'otel-conformance', errorMessage: expect.stringContaining('no messageType') });
  });

  it.each([
    [
      'a body requestId different from the header',
      { 'x-amz-firehose-request-id': 'header-id' },
      JSON.stringify({ requestId: 'body-id', records: [] }),
      200,
      'header-id',
    ],
    ['no header request id but one in the body', {}, JSON.stringify({ requestId: 'body-id', records: [] }), 200, 'body-id'],
    [
      'bad base64 XXXXXaGVsbG8= as the only record',
      { 'x-amz-firehose-request-id': 'b64' },
      JSON.stringify({ requestId: 'b64', records: [{ data: 'XXXXXaGVsbG8=' }] }),
      400,
      'b64',
    ],
  ])('HTTP case: %s', async (_name, h, body, status, echoed) => {
    // The collector refuses a mismatched or header-less request id (400); Firehose always sends both,
    // equal, so firetap accepts either and echoes the header's (the body's when there is no header),
    // which keeps curl tests easy and real traffic unaffected.
    const { res } = await send('/firehose/metrics', body, h as Record<string, string>);
    expect(res.statusCode).toBe(status);
    expect(res.json().requestId).toBe(echoed);
    if (status === 400) expect(res.json().errorMessage).toContain('not valid base64');
  });
});
