import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { debugLines } from '../../src/export/debug.ts';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts';
import { firehoseBody, firehoseHeaders, logsMessage, logsRecord } from '../helpers/cloudwatch-fixtures.ts';
import { FakeAws } from '../helpers/fake-aws.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { ACCOUNT, REGION, ecsSpan, lambdaTrace, spanText, spansMessage, xraySegmentSpan } from '../helpers/span-fixtures.ts';
import { sdkEnv } from '../helpers/aws-env.ts';

/**
 * Transaction Search spans end to end: subscription records of aws/spans posted as Firehose sends them, to the
 * logs route (one stream for every log group) and to the traces route, reach a real OTLP receiver's /v1/traces
 * as exactly the spans they hold, tagged from the tag cache (real AWS SDK clients against a loopback AWS).
 */
const aws = new FakeAws();
let sink: OtlpSink;

beforeAll(async () => {
  await aws.start();
  aws.addAccount(ACCOUNT, 'AKIDSPANSACCOUNT');
  const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  aws.setResources(ACCOUNT, REGION, [
    { arn: arn('lambda', 'function:checkout'), tags: { team: 'payments' }, details: { Runtime: 'python3.13', MemorySize: 512 } },
    { arn: arn('ecs', 'cluster/shop'), tags: { team: 'cart' } },
    { arn: arn('ec2', 'instance/i-0abc1234def567890'), tags: { team: 'legacy' }, details: { InstanceType: 'm6i.large' } },
  ]);
  Object.assign(process.env, sdkEnv({ AWS_ENDPOINT_URL: aws.url }, 'AKIDSPANSACCOUNT', REGION));
  sink = await new OtlpSink().start();
});
afterAll(async () => {
  await sink.stop();
  await aws.stop();
});
beforeEach(() => {
  sink.received.length = 0;
  sink.decideBy(undefined);
});

async function startApp(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await buildTestApp({ FIRETAP_ENRICHMENT_REGIONS: REGION, FIRETAP_ACCESS_KEYS: 'k', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, ...env });
  t.scraper!.start();
  for (let i = 0; i < 200 && (await t.app.inject({ url: '/readyz' })).statusCode !== 200; i++) await new Promise((r) => setTimeout(r, 25));
  return t;
}

/** Firehose's retry of a request is the same body, timestamp included. */
const post = (t: TestApp, route: string, requestId: string, records: Uint8Array[]) =>
  t.app.inject({
    method: 'POST',
    url: route,
    headers: firehoseHeaders(requestId, { 'x-amz-firehose-access-key': 'k' }),
    payload: firehoseBody(records, requestId, 1_795_000_060_000),
  });

const spansRecord = () => gzipSync(JSON.stringify(spansMessage([...lambdaTrace(), ecsSpan(), xraySegmentSpan()])));
const lambdaLogs = () => logsRecord(logsMessage({ events: [{ timestamp: 1_795_000_000_000, message: 'order placed\n' }] }));

function expectTaggedSpans(spans: Array<Record<string, any>>): void {
  expect(spans.map((s) => s.spanId).sort()).toEqual(['53995c3f42cd8ad8', 'a1b2c3d4e5f60718', 'b2c3d4e5f6071829', 'b7ad6b7169203331']);
  const by = (id: string) => spans.find((s) => s.spanId === id)!;
  for (const id of ['a1b2c3d4e5f60718', 'b2c3d4e5f6071829']) {
    expect(by(id).resource).toMatchObject({
      'faas.name': 'checkout',
      'aws.tag.team': 'payments',
      'cloud.resource_id': `arn:aws:lambda:${REGION}:${ACCOUNT}:function:checkout`,
    });
  }
  expect(by('b7ad6b7169203331').resource).toMatchObject({ 'service.name': 'cart', 'aws.tag.team': 'cart' });
  expect(by('53995c3f42cd8ad8').resource).toMatchObject({ 'host.id': 'i-0abc1234def567890', 'aws.tag.team': 'legacy' });
  expect(by('53995c3f42cd8ad8').traceId).toBe('5759e988bd862e3fe1be46a994272793');
  expect(by('a1b2c3d4e5f60718')).toMatchObject({ startTimeUnixNano: '1795000000123456789', status: { code: 2, message: 'order not stored' } });
}

describe('spans from aws/spans', () => {
  it('on /firehose/logs: the aws/spans record becomes exactly its spans on /v1/traces, tagged, and the logs beside it go to /v1/logs', async () => {
    const t = await startApp();
    const res = await post(t, '/firehose/logs', 'spans-on-logs', [spansRecord(), lambdaLogs()]);
    expect(res.statusCode, res.body).toBe(200);
    expect(sink.received.filter((r) => r.signal === 'traces').every((r) => r.headers['content-type'] === 'application/x-protobuf')).toBe(true);
    expectTaggedSpans(sink.lines('traces'));
    expect(sink.lines('logs').map((l) => l.body)).toEqual(['order placed\n']);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('firetap_items_total{signal="traces",stage="received"} 4');
    expect(metrics).toContain('firetap_items_total{signal="traces",stage="exported"} 4');
  });

  it('on /firehose/traces: a dedicated stream of aws/spans gives the same spans', async () => {
    const t = await startApp();
    const res = await post(t, '/firehose/traces', 'spans-on-traces', [spansRecord()]);
    expect(res.statusCode, res.body).toBe(200);
    expectTaggedSpans(sink.lines('traces'));
    expect(sink.received.every((r) => r.signal === 'traces')).toBe(true);
  });

  it('sends a batch of more spans than FIRETAP_TRACES_MAX_BATCH_SPANS (X-Ray takes 10,000) as several requests within it, each retried on its own', async () => {
    const t = await startApp({ FIRETAP_TRACES_MAX_BATCH_SPANS: '3' });
    let traces = 0;
    // The second piece fails once and is sent again; the first is not sent twice.
    sink.decideBy((_body, _attempt, path) => (path.endsWith('/v1/traces') && ++traces === 2 ? { status: 503 } : undefined));
    const res = await post(t, '/firehose/traces', 'split-me', [spansRecord(), spansRecord()]);
    expect(res.statusCode, res.body).toBe(200);
    expect(traces).toBe(4);
    const sizes = sink.received.filter((r) => r.signal === 'traces').map((r) => [...debugLines({ signal: 'traces', payload: r.body })].length);
    expect(sizes).toEqual([3, 3, 2]);
    const spans = sink.lines('traces');
    expectTaggedSpans(spans.slice(0, 4));
    expectTaggedSpans(spans.slice(4));
  });

  it('reads the events of another log group as spans when FIRETAP_SPAN_LOG_GROUPS names it, and sends traces where OTEL_EXPORTER_OTLP_TRACES_ENDPOINT says', async () => {
    const t = await startApp({ FIRETAP_SPAN_LOG_GROUPS: 'aws/spans,/otel/*', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${sink.url}/custom/traces` });
    const res = await post(t, '/firehose/logs', 'custom-group', [gzipSync(JSON.stringify(spansMessage([ecsSpan()], '/otel/cart')))]);
    expect(res.statusCode, res.body).toBe(200);
    expect(sink.received.map((r) => r.signal)).toEqual(['traces']);
    expect(sink.lines('traces').map((s) => s.name)).toEqual(['GET /cart/{id}']);
  });

  it('sets a record with an unreadable span aside (counted, dead-lettered) and delivers the spans of the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'firetap-spans-'));
    const t = await startApp({ FIRETAP_DEAD_LETTER_DIR: dir });
    const broken = gzipSync(JSON.stringify(spansMessage([{ ...ecsSpan(), spanId: 'nope' }])));
    const res = await post(t, '/firehose/traces', 'one-bad', [broken, spansRecord()]);
    expect(res.statusCode, res.body).toBe(200);
    expect(sink.lines('traces')).toHaveLength(4);
    expect((await t.app.inject({ url: '/metrics' })).body).toContain('firetap_records_rejected_total{signal="traces",reason="format"} 1');
    const [line] = readFileSync(join(dir, 'firetap-dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(line).toMatchObject({ signal: 'traces', index: 0, reason: 'format' });
    expect(line.message).toContain('spanId is "nope"; expected 16 hex digits');
  });

  it('acknowledges a logs request only once its spans are delivered too, and its retry sends only the spans', async () => {
    const t = await startApp({ FIRETAP_REQUEST_TIMEOUT_MS: '1500' });
    sink.decideBy((body) => (isTraces(body) ? { status: 503 } : undefined));
    const first = await post(t, '/firehose/logs', 'retry-me', [lambdaLogs(), spansRecord()]);
    expect(first.statusCode).toBe(503);
    expect(sink.lines('logs')).toHaveLength(1);
    expect(sink.lines('traces')).toHaveLength(0);
    sink.decideBy(undefined);
    const retry = await post(t, '/firehose/logs', 'retry-me', [lambdaLogs(), spansRecord()]);
    expect(retry.statusCode, retry.body).toBe(200);
    expect(sink.lines('logs')).toHaveLength(1);
    expect(sink.lines('traces')).toHaveLength(4);
  });

  it('dead-letters the records of spans the traces backend refuses as bad data, and still delivers the logs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'firetap-spans-'));
    const t = await startApp({ FIRETAP_DEAD_LETTER_DIR: dir });
    sink.decideBy((body) => (isTraces(body) ? { status: 400, body: 'span rejected' } : undefined));
    const res = await post(t, '/firehose/logs', 'refused-spans', [lambdaLogs(), spansRecord()]);
    expect(res.statusCode, res.body).toBe(200);
    expect(sink.lines('logs')).toHaveLength(1);
    const lines = readFileSync(join(dir, 'firetap-dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.index, l.reason])).toEqual([[1, 'rejected_by_backend']]);
  });

  it('prints spans as one JSON line each with the debug exporter, ids in hex and times exact', async () => {
    const t = await buildTestApp({});
    const res = await post(t, '/firehose/traces', 'debug', [Buffer.from(`${spanText(ecsSpan())}\n`)]);
    expect(res.statusCode, res.body).toBe(200);
    const [line] = t.debug().filter((l) => l.signal === 'traces');
    expect(line).toMatchObject({
      name: 'GET /cart/{id}',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      startTimeUnixNano: '1795000001123456789',
      attributes: { 'http.route': '/cart/{id}' },
    });
  });
});

/** A traces export: it holds the span id bytes of the ECS or the Lambda server span. */
function isTraces(body: Buffer): boolean {
  return body.includes(Buffer.from('b7ad6b7169203331', 'hex')) || body.includes(Buffer.from('a1b2c3d4e5f60718', 'hex'));
}
