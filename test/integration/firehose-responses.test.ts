import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { firehoseBody, firehoseHeaders, lengthPrefixed, logsMessage, logsRecord, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';

const id = { account: '123456789012', region: 'eu-west-1', streamName: 'all' };
const metricRecord = lengthPrefixed(metricStreamRequest(id, sampleDatapoints(3)));
const logRecord = logsRecord(logsMessage({ events: [{ timestamp: 1, message: 'hello' }] }));
const KEYS = 'old-key,new-key';

interface Case {
  name: string;
  env?: Record<string, string>;
  sink?: { status: number; headers?: Record<string, string> };
  method?: 'POST' | 'GET' | 'PUT';
  url?: string;
  headers?: Record<string, string | undefined>;
  body?: string | Buffer;
  status: number;
  /** Part of errorMessage; undefined means there must be none. */
  error?: string | RegExp;
  /** When false, the answer is not a Firehose response (404/405 on other routes). */
  firehose?: boolean;
  retryAfter?: boolean;
}

const rid = 'b5b2dbf6-0f39-4a8c-b1a6-a79d4c1d1a4e';
const body = (records: Uint8Array[]) => firehoseBody(records, rid);

const cases: Case[] = [
  { name: 'metric-stream records delivered', body: body([metricRecord]), status: 200 },
  { name: 'CloudWatch Logs records delivered', url: '/firehose/logs', body: body([logRecord]), status: 200 },
  { name: 'no records at all', body: body([]), status: 200 },
  { name: 'records: null', body: JSON.stringify({ requestId: rid, timestamp: 1, records: null }), status: 200 },
  { name: 'a gzipped body with Content-Encoding: gzip', headers: { 'content-encoding': 'gzip' }, body: gzipSync(body([metricRecord])), status: 200 },
  { name: 'a curl-style form content type', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body([metricRecord]), status: 200 },
  { name: 'the right access key', env: { FIRETAP_ACCESS_KEYS: KEYS }, headers: { 'x-amz-firehose-access-key': 'new-key' }, body: body([metricRecord]), status: 200 },
  { name: 'the previous access key during rotation', env: { FIRETAP_ACCESS_KEYS: KEYS }, headers: { 'x-amz-firehose-access-key': 'old-key' }, body: body([metricRecord]), status: 200 },
  { name: 'a missing access key', env: { FIRETAP_ACCESS_KEYS: KEYS }, body: body([metricRecord]), status: 401, error: 'missing X-Amz-Firehose-Access-Key header' },
  { name: 'a wrong access key', env: { FIRETAP_ACCESS_KEYS: KEYS }, headers: { 'x-amz-firehose-access-key': 'guess' }, body: body([metricRecord]), status: 401, error: 'invalid X-Amz-Firehose-Access-Key' },
  { name: 'a wrong access key with a malformed body (auth first)', env: { FIRETAP_ACCESS_KEYS: KEYS }, headers: { 'x-amz-firehose-access-key': 'guess' }, body: '{', status: 401, error: 'invalid' },
  { name: 'a body that is not JSON', body: 'hello', status: 400, error: /not a Firehose request: expected '\{'/ },
  { name: 'a truncated JSON body', body: body([metricRecord]).slice(0, 50), status: 400, error: 'not a Firehose request' },
  { name: 'an empty body', body: '', status: 400, error: 'request body is empty' },
  { name: 'a corrupt gzip body', headers: { 'content-encoding': 'gzip' }, body: Buffer.from('definitely not gzip'), status: 400, error: 'request body is not valid gzip' },
  { name: 'an unsupported Content-Encoding', headers: { 'content-encoding': 'compress' }, body: body([metricRecord]), status: 415, error: 'Unsupported Content-Encoding: compress' },
  { name: 'no request id anywhere', headers: { 'x-amz-firehose-request-id': undefined }, body: JSON.stringify({ records: [] }), status: 400, error: 'missing request id' },
  { name: 'an unknown protocol version', headers: { 'x-amz-firehose-protocol-version': '2.0' }, body: body([]), status: 400, error: 'x-amz-firehose-protocol-version' },
  { name: 'only bad records', body: body([Buffer.from('garbage')]), status: 400, error: /none of the 1 record\(s\) could be decoded.*record 0/ },
  { name: 'a bad record beside a good one', body: body([Buffer.from([0x05, 1]), metricRecord]), status: 200 },
  { name: 'a body over the limit', env: { FIRETAP_MAX_BODY_BYTES: '1000' }, body: body([metricRecord, metricRecord]), status: 413, error: 'larger than 1000 bytes after decompression' },
  {
    name: 'a gzip body that inflates over the limit',
    env: { FIRETAP_MAX_BODY_BYTES: '100000' },
    headers: { 'content-encoding': 'gzip' },
    body: gzipSync(JSON.stringify({ requestId: rid, records: [{ data: 'A'.repeat(10_000_000) }] })),
    status: 413,
    error: 'larger than 100000 bytes after decompression',
  },
  { name: 'a backend that is down', sink: { status: 503, headers: { 'retry-after': '3' } }, body: body([metricRecord]), status: 503, error: /answered 503.*deadline/, retryAfter: true },
  { name: 'a backend that rejects the data', sink: { status: 400 }, body: body([metricRecord]), status: 502, error: 'answered 400' },
  { name: 'an unknown ?format', url: '/firehose/metrics?format=csv', body: body([metricRecord]), status: 400, error: 'unknown ?format=csv' },
  { name: 'an unknown ?format on the logs route', url: '/firehose/logs?format=syslog', body: body([logRecord]), status: 400, error: 'unknown ?format=syslog on /firehose/logs; expected one of auto, cloudwatch-logs' },
  { name: 'only raw records on a logs route configured for CloudWatch Logs only', env: { FIRETAP_LOGS_FORMAT: 'cloudwatch-logs' }, url: '/firehose/logs', body: body([Buffer.from('plain text')]), status: 400, error: 'could be decoded as CloudWatch Logs subscription data' },
  { name: 'a JSON metric-stream record on a route told ?format=opentelemetry1.0', url: '/firehose/metrics?format=opentelemetry1.0', body: body([Buffer.from('{"namespace":"AWS/EC2"}')]), status: 400, error: 'told ?format=opentelemetry1.0' },
  { name: 'GET on a Firehose route', method: 'GET', status: 405, firehose: false },
  { name: 'an unknown route', url: '/firehose/traces', body: body([]), status: 404, firehose: false },
];

let sink: OtlpSink;
beforeAll(async () => {
  sink = await new OtlpSink().start();
});
afterAll(() => sink.stop());

describe('Firehose response contract', () => {
  it.each(cases)('answers $status to $name', async (c) => {
    sink.always(c.sink ?? { status: 200 });
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_REQUEST_TIMEOUT_MS: '1500', ...c.env };
    const t = await buildTestApp(env);
    const headers = Object.fromEntries(Object.entries({ ...firehoseHeaders(rid), 'accept-encoding': 'gzip', ...c.headers }).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const before = Date.now();
    const res = await t.app.inject({ method: c.method ?? 'POST', url: c.url ?? '/firehose/metrics', headers, ...(c.body === undefined ? {} : { payload: c.body }) });

    expect(res.statusCode).toBe(c.status);
    if (c.firehose === false) return;
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-encoding']).toBeUndefined();
    const json = res.json();
    expect(json.requestId).toBe(headers['x-amz-firehose-request-id'] ?? '');
    expect(json.timestamp).toBeGreaterThanOrEqual(before);
    expect(json.timestamp).toBeLessThanOrEqual(Date.now());
    if (c.error === undefined) expect(json).not.toHaveProperty('errorMessage');
    else expect(json.errorMessage).toMatch(c.error);
    if (c.retryAfter) expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    sink.always({ status: 200 });
  });
});
