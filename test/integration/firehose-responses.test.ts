import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import {
  firehoseBody,
  firehoseHeaders,
  lengthPrefixed,
  logsMessage,
  logsRecord,
  metricStreamRequest,
  sampleDatapoints,
} from '../helpers/cloudwatch-fixtures.ts';

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
  /** The answer's requestId when it is not the header's. */
  requestId?: string | RegExp;
  /** The Allow header of a 405. */
  allow?: string;
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
  {
    name: 'the right access key',
    env: { FIRETAP_ACCESS_KEYS: KEYS },
    headers: { 'x-amz-firehose-access-key': 'new-key' },
    body: body([metricRecord]),
    status: 200,
  },
  {
    name: 'the previous access key during rotation',
    env: { FIRETAP_ACCESS_KEYS: KEYS },
    headers: { 'x-amz-firehose-access-key': 'old-key' },
    body: body([metricRecord]),
    status: 200,
  },
  {
    name: 'a missing access key',
    env: { FIRETAP_ACCESS_KEYS: KEYS },
    body: body([metricRecord]),
    status: 401,
    error: 'missing X-Amz-Firehose-Access-Key header',
  },
  {
    name: 'a wrong access key',
    env: { FIRETAP_ACCESS_KEYS: KEYS },
    headers: { 'x-amz-firehose-access-key': 'guess' },
    body: body([metricRecord]),
    status: 401,
    error: 'invalid X-Amz-Firehose-Access-Key',
  },
  {
    name: 'a wrong access key with a malformed body (auth first)',
    env: { FIRETAP_ACCESS_KEYS: KEYS },
    headers: { 'x-amz-firehose-access-key': 'guess' },
    body: '{',
    status: 401,
    error: 'invalid',
  },
  { name: 'a body that is not JSON', body: 'hello', status: 400, error: /not a Firehose request: expected '\{'/ },
  { name: 'a truncated JSON body', body: body([metricRecord]).slice(0, 50), status: 400, error: 'not a Firehose request' },
  { name: 'an empty body', body: '', status: 400, error: 'request body is empty' },
  {
    name: 'a corrupt gzip body',
    headers: { 'content-encoding': 'gzip' },
    body: Buffer.from('definitely not gzip'),
    status: 400,
    error: 'request body is not valid gzip',
  },
  {
    name: 'an unsupported Content-Encoding',
    headers: { 'content-encoding': 'compress' },
    body: body([metricRecord]),
    status: 415,
    error: 'Unsupported Content-Encoding: compress',
  },
  {
    name: 'no request id anywhere (the answer carries one made up to find the log line by)',
    headers: { 'x-amz-firehose-request-id': undefined },
    body: JSON.stringify({ records: [] }),
    status: 400,
    error: 'missing request id',
    requestId: /^firetap-[0-9a-f-]{36}$/,
  },
  {
    name: "a malformed body without the header: the body's request id is echoed",
    headers: { 'x-amz-firehose-request-id': undefined },
    body: '{"requestId":"from-the-body","records":[{"data":',
    status: 400,
    error: 'not a Firehose request',
    requestId: 'from-the-body',
  },
  { name: 'an empty object', body: '{}', status: 400, error: 'request body has no "records" array; a Firehose request is {"requestId"' },
  { name: 'a request id and timestamp but no records', body: JSON.stringify({ requestId: rid, timestamp: 1 }), status: 400, error: 'no "records" array' },
  {
    name: '"Records" instead of "records"',
    body: JSON.stringify({ requestId: rid, timestamp: 1, Records: [{ data: 'aGk=' }] }),
    status: 400,
    error: 'no "records" array (it has "Records": keys are case-sensitive)',
  },
  {
    name: 'a metric-stream record posted to the logs route',
    url: '/firehose/logs',
    body: body([metricRecord]),
    status: 400,
    error: /^this is a CloudWatch metric stream record; send it to \/firehose\/metrics/,
  },
  {
    name: 'a metric-stream JSON record posted to the logs route',
    url: '/firehose/logs',
    body: body([
      Buffer.from(
        '{"metric_stream_name":"s","account_id":"123456789012","region":"eu-west-1","namespace":"AWS/EC2","metric_name":"CPUUtilization","dimensions":{},"timestamp":1,"value":{"count":1,"sum":1,"max":1,"min":1},"unit":"Percent"}\n',
      ),
    ]),
    status: 400,
    error: 'send it to /firehose/metrics',
  },
  { name: 'a metric-stream record on a logs route told a raw format explicitly', url: '/firehose/logs?format=record', body: body([metricRecord]), status: 200 },
  {
    name: 'a CloudWatch Logs record posted to the metrics route',
    body: body([logRecord]),
    status: 400,
    error: /^this looks like CloudWatch Logs.*send it to \/firehose\/logs/,
  },
  {
    name: 'a CloudWatch Logs record on a metrics route told ?format=opentelemetry1.0',
    url: '/firehose/metrics?format=opentelemetry1.0',
    body: body([logRecord]),
    status: 400,
    error: 'send it to /firehose/logs',
  },
  {
    name: 'an unknown protocol version',
    headers: { 'x-amz-firehose-protocol-version': '2.0' },
    body: body([]),
    status: 400,
    error: 'x-amz-firehose-protocol-version',
  },
  { name: 'only bad records', body: body([Buffer.from('garbage')]), status: 400, error: /none of the 1 record\(s\) could be decoded.*record 0/ },
  { name: 'a bad record beside a good one', body: body([Buffer.from([0x05, 1]), metricRecord]), status: 200 },
  {
    name: 'a body over the limit',
    env: { FIRETAP_MAX_BODY_BYTES: '1000' },
    body: body([metricRecord, metricRecord]),
    status: 413,
    error: 'larger than 1000 bytes after decompression',
  },
  {
    name: 'a gzip body that inflates over the limit',
    env: { FIRETAP_MAX_BODY_BYTES: '100000' },
    headers: { 'content-encoding': 'gzip' },
    body: gzipSync(JSON.stringify({ requestId: rid, records: [{ data: 'A'.repeat(10_000_000) }] })),
    status: 413,
    error: 'larger than 100000 bytes after decompression',
  },
  {
    name: 'a backend that is down',
    sink: { status: 503, headers: { 'retry-after': '3' } },
    body: body([metricRecord]),
    status: 503,
    error: /answered 503.*deadline/,
    retryAfter: true,
  },
  { name: 'a backend that rejects the data', sink: { status: 400 }, body: body([metricRecord]), status: 502, error: 'answered 400' },
  { name: 'an unknown ?format', url: '/firehose/metrics?format=csv', body: body([metricRecord]), status: 400, error: 'unknown ?format=csv' },
  {
    name: 'only records that are not spans on the traces route',
    url: '/firehose/traces',
    body: body([Buffer.from('plain text')]),
    status: 400,
    error: 'none of the 1 record(s) could be decoded as Transaction Search span (aws/spans) data; record 0: span (line 1) is not JSON',
  },
  {
    name: 'an unknown ?format on the logs route',
    url: '/firehose/logs?format=syslog',
    body: body([logRecord]),
    status: 400,
    error: 'unknown ?format=syslog on /firehose/logs; expected one of auto, aws-spans, cloudwatch-logs',
  },
  {
    name: 'only raw records on a logs route configured for CloudWatch Logs only',
    env: { FIRETAP_LOGS_FORMAT: 'cloudwatch-logs' },
    url: '/firehose/logs',
    body: body([Buffer.from('plain text')]),
    status: 400,
    error: 'could be decoded as CloudWatch Logs subscription data',
  },
  {
    name: 'a JSON metric-stream record on a route told ?format=opentelemetry1.0',
    url: '/firehose/metrics?format=opentelemetry1.0',
    body: body([Buffer.from('{"namespace":"AWS/EC2"}')]),
    status: 400,
    error: 'told ?format=opentelemetry1.0',
  },
  { name: 'GET on a Firehose route (a person, a health check): what the route is for', method: 'GET', status: 200, firehose: false },
  {
    name: 'PUT on a Firehose route',
    method: 'PUT',
    body: body([]),
    status: 405,
    error: 'PUT is not allowed on /firehose/metrics; Firehose delivers with POST',
    allow: 'GET, HEAD, POST',
  },
  {
    name: 'a mistyped Firehose route',
    url: '/firehose/metric',
    body: body([]),
    status: 404,
    error: 'no route /firehose/metric; did you mean /firehose/metrics?',
  },
  { name: 'an unknown route elsewhere', url: '/v1/metrics', body: body([]), status: 404, firehose: false },
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
    const headers = Object.fromEntries(
      Object.entries({ ...firehoseHeaders(rid), 'accept-encoding': 'gzip', ...c.headers }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    const before = Date.now();
    const res = await t.app.inject({
      method: c.method ?? 'POST',
      url: c.url ?? '/firehose/metrics',
      headers,
      ...(c.body === undefined ? {} : { payload: c.body }),
    });

    expect(res.statusCode).toBe(c.status);
    if (c.firehose === false) return;
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['content-encoding']).toBeUndefined();
    const json = res.json();
    const expectedId = c.requestId ?? headers['x-amz-firehose-request-id']!;
    if (typeof expectedId === 'string') expect(json.requestId).toBe(expectedId);
    else expect(json.requestId).toMatch(expectedId);
    if (c.allow) expect(res.headers.allow).toBe(c.allow);
    expect(json.timestamp).toBeGreaterThanOrEqual(before);
    expect(json.timestamp).toBeLessThanOrEqual(Date.now());
    if (c.error === undefined) expect(json).not.toHaveProperty('errorMessage');
    else expect(json.errorMessage).toMatch(c.error);
    if (c.retryAfter) expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    sink.always({ status: 200 });
  });
});

describe('what a person with curl is told', () => {
  it('a GET on a Firehose route says what the route is for and that Firehose POSTs to it', async () => {
    const t = await buildTestApp({ FIRETAP_ACCESS_KEYS: KEYS });
    const res = await t.app.inject({ url: '/firehose/logs' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      route: '/firehose/logs',
      method: 'POST',
      purpose: expect.stringContaining('CloudWatch Logs subscription records'),
      health: '/healthz',
    });
  });

  it("GET / lists every route with its purpose, so a load balancer's default health check and a browser get an answer", async () => {
    const t = await buildTestApp();
    const res = await t.app.inject({ url: '/' });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json().routes)).toEqual(['POST /firehose/metrics', 'POST /firehose/logs', 'POST /firehose/traces', 'POST /eventbridge/events']);
  });

  it("a GET on the EventBridge route is 405 in that route's shape, with Allow: POST", async () => {
    const t = await buildTestApp();
    const res = await t.app.inject({ url: '/eventbridge/events' });
    expect([res.statusCode, res.headers.allow, res.json()]).toEqual([
      405,
      'POST',
      { error: "GET is not allowed on /eventbridge/events; set the API destination's HTTP method to POST" },
    ]);
  });

  it('logs a refusal at warn and a backend failure at error, each with its cause; success at info', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_REQUEST_TIMEOUT_MS: '1000', FIRETAP_MAX_CONCURRENT_REQUESTS: '1' });
    const post = (id: string, payload: string) => t.app.inject({ method: 'POST', url: '/firehose/metrics', headers: firehoseHeaders(id), payload });
    sink.always({ status: 200 });
    await post('ok', body([metricRecord]));
    await post('bad', '{}');
    sink.always({ status: 503 });
    await post('down', body([metricRecord]));
    // Shedding load is expected under a burst (Firehose retries): warn, not error.
    sink.always({ status: 200, delayMs: 300 });
    await Promise.all([post('first', body([metricRecord])), new Promise((r) => setTimeout(r, 100)).then(() => post('shed', body([metricRecord])))]);
    sink.always({ status: 200 });
    const lines = t.logs().filter((l) => l.msg === 'delivered' || l.msg === 'not delivered');
    expect(lines.map((l) => [l.requestId, l.level, l.status])).toEqual([
      ['ok', 30, 200],
      ['bad', 40, 400],
      ['down', 50, 503],
      ['shed', 40, 503],
      ['first', 30, 200],
    ]);
    expect(lines[1]!.error).toContain('no "records" array');
    expect(lines[2]!.error).toContain('answered 503');
  });
});
