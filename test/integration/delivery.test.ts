import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import {
  CONTROL_MESSAGE,
  firehoseBody,
  firehoseHeaders,
  lengthPrefixed,
  logsMessage,
  logsRecord,
  metricStreamRequest,
  sampleDatapoints,
} from '../helpers/cloudwatch-fixtures.ts';

const id = { account: '123456789012', region: 'eu-west-1', streamName: 'all' };

let sink: OtlpSink;
beforeEach(async () => {
  sink = await new OtlpSink().start();
});
afterEach(() => sink.stop());

const post = (
  t: { app: { inject: (options: object) => Promise<any> } },
  url: string,
  records: Uint8Array[],
  requestId = 'req-1',
  headers: Record<string, string> = {},
) => (t.app.inject as any)({ method: 'POST', url, headers: firehoseHeaders(requestId, headers), payload: firehoseBody(records, requestId) });

describe('delivery to the OTLP backend', () => {
  it('answers 503 while the backend is down and 200 for the same request id once it is back, delivering every data point once', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_REQUEST_TIMEOUT_MS: '2000' });
    const records = [lengthPrefixed(metricStreamRequest(id, sampleDatapoints(10))), lengthPrefixed(metricStreamRequest(id, sampleDatapoints(5)))];

    sink.always({ status: 503 });
    const down = await post(t, '/firehose/metrics', records, 'retry-me');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ requestId: 'retry-me', errorMessage: expect.stringContaining('answered 503') });
    expect(sink.attempts).toBeGreaterThan(1); // retried within the deadline
    expect(sink.received).toHaveLength(0);

    sink.always({ status: 200 });
    const up = await post(t, '/firehose/metrics', records, 'retry-me');
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ requestId: 'retry-me', timestamp: expect.any(Number) });
    expect(sink.lines('metrics')).toHaveLength(15);
  });

  it('acknowledges only after a slow backend accepted the data', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
    sink.respond({ status: 200, delayMs: 300 });
    const started = Date.now();
    const res = await post(t, '/firehose/logs', [logsRecord(logsMessage({ events: [{ timestamp: 1, message: 'x' }] }))]);
    expect(res.statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(sink.lines('logs')).toHaveLength(1);
  });

  it('retries a throttled export after Retry-After and then acknowledges', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
    sink.respond({ status: 429, headers: { 'retry-after': '1' } }, { status: 502 });
    const res = await post(t, '/firehose/metrics', [lengthPrefixed(metricStreamRequest(id, sampleDatapoints(2)))]);
    expect(res.statusCode).toBe(200);
    expect(sink.attempts).toBe(3);
    expect(sink.lines('metrics')).toHaveLength(2);
  });

  it('delivers 10,000 records of one request in bounded batches', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_EXPORT_MAX_BATCH_BYTES: '262144' });
    const record = lengthPrefixed(metricStreamRequest(id, sampleDatapoints(3)));
    const res = await post(
      t,
      '/firehose/metrics',
      Array.from({ length: 10_000 }, () => record),
    );
    expect(res.statusCode).toBe(200);
    expect(sink.lines('metrics')).toHaveLength(30_000);
    expect(sink.received.length).toBeGreaterThan(5);
    for (const r of sink.received) expect(r.body.length).toBeLessThan(262_144 + record.length * 2);
  });

  it('delivers every data point of concurrent requests intact while their buffers are reused, throttled exports included', async () => {
    // Bodies and batches of 64 KiB or more come from a pool: a buffer given back too early would show
    // here as a data point lost, doubled or altered in another request.
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_EXPORT_MAX_BATCH_BYTES: String(96 * 1024) });
    sink.decideBy((_body, attempt) => (attempt % 4 === 0 ? { status: 503 } : { status: 200, delayMs: attempt % 3 }));
    const requests = Array.from({ length: 12 }, (_, r) =>
      Array.from({ length: 8 }, (_, k) => lengthPrefixed(metricStreamRequest(id, sampleDatapoints(150, 1_795_000_000_000 + (r * 8 + k) * 60_000)))),
    );
    const answers = await Promise.all(requests.map((records, r) => post(t, '/firehose/metrics', records, `concurrent-${r}`)));
    expect(answers.map((a: { statusCode: number }) => a.statusCode)).toEqual(requests.map(() => 200));
    const key = (l: Record<string, any>) => `${l.timeUnixNano} ${l.metric} ${l.sum}`;
    const expected = requests
      .flat()
      .flatMap((_, i) =>
        sampleDatapoints(150, 1_795_000_000_000 + i * 60_000).map(
          (d) => `${BigInt(d.timeMs) * 1_000_000n} amazonaws.com/${d.namespace}/${d.metricName} ${d.sum}`,
        ),
      );
    const got = sink.lines('metrics').map(key);
    expect(got).toHaveLength(12 * 8 * 150);
    expect(new Set(got).size).toBe(got.length);
    expect(got.sort()).toEqual(expected.sort());
  });

  it('delivers the good records beside a bad one, counts and logs the bad one with its index, and dead-letters it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'firetap-dlq-'));
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_DEAD_LETTER_DIR: dir });
    const good = logsRecord(logsMessage({ events: [{ timestamp: 1, message: 'kept' }] }));
    const truncated = good.subarray(0, good.length - 10);
    const res = await post(t, '/firehose/logs', [good, truncated, logsRecord(CONTROL_MESSAGE)], 'partly-bad');
    expect(res.statusCode).toBe(200);
    expect(sink.lines('logs').map((l) => l.body)).toEqual(['kept']);

    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('firetap_records_rejected_total{signal="logs",reason="gzip"} 1');
    expect(metrics).toContain('firetap_dead_letter_records_total{signal="logs"} 1');
    expect(t.logs().filter((l) => l.msg === 'records rejected')).toEqual([
      expect.objectContaining({
        requestId: 'partly-bad',
        level: 40,
        rejected: 1,
        records: 3,
        reasons: { gzip: 1 },
        first: expect.objectContaining({ recordIndex: 1, reason: 'gzip' }),
      }),
    ]);

    const lines = readFileSync(join(dir, 'firetap-dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ requestId: 'partly-bad', signal: 'logs', index: 1, reason: 'gzip', data: truncated.toString('base64') })]);
  });

  it('finds the one record the backend refuses as bad data, dead-letters it and delivers the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'firetap-dlq-'));
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_DEAD_LETTER_DIR: dir });
    sink.refuseWhen((body) => body.includes('POISON'));
    const records = ['a', 'b', 'POISON', 'c'].map((m) => logsRecord(logsMessage({ events: [{ timestamp: 1, message: m }] })));
    const res = await post(t, '/firehose/logs', records, 'poison');
    expect(res.statusCode).toBe(200);
    expect(
      sink
        .lines('logs')
        .map((l) => l.body)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    const lines = readFileSync(join(dir, 'firetap-dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ index: 2, reason: 'rejected_by_backend', message: expect.stringContaining('answered 400') })]);
    expect((await t.app.inject({ url: '/metrics' })).body).toContain('firetap_records_rejected_total{signal="logs",reason="rejected_by_backend"} 1');
  });

  it('fails the request (and keeps its data with Firehose) when the backend refuses every record alone', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
    sink.always({ status: 400, body: 'wrong tenant' });
    const records = ['a', 'b'].map((m) => logsRecord(logsMessage({ events: [{ timestamp: 1, message: m }] })));
    const res = await post(t, '/firehose/logs', records, 'all-refused');
    expect(res.statusCode).toBe(502);
    expect(res.json().errorMessage).toContain('refused every record of the batch');
  });

  it('adds configured resource attributes, then common attributes under other keys, without overwriting the data', async () => {
    const t = await buildTestApp({
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      FIRETAP_RESOURCE_ATTRIBUTES: 'service.name=cloudwatch,env=from-config,cloud.region=nope',
    });
    // Whoever sends the request may not rename the operator's service or environment.
    const common = JSON.stringify({ commonAttributes: { env: 'from-firehose', team: 'payments', 'service.name': 'forged' } });
    await post(t, '/firehose/metrics', [lengthPrefixed(metricStreamRequest(id, sampleDatapoints(1)))], 'c1', { 'x-amz-firehose-common-attributes': common });
    await post(t, '/firehose/logs', [logsRecord(logsMessage({ events: [{ timestamp: 1, message: 'x' }] }))], 'c2', {
      'x-amz-firehose-common-attributes': common,
    });
    for (const line of [...sink.lines('metrics'), ...sink.lines('logs')]) {
      expect(line.resource).toMatchObject({ 'cloud.region': 'eu-west-1', env: 'from-config', team: 'payments', 'service.name': 'cloudwatch' });
    }
  });

  it('keeps serving when the common attributes header is broken, and counts it', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
    const res = await post(t, '/firehose/metrics', [lengthPrefixed(metricStreamRequest(id, sampleDatapoints(1)))], 'c3', {
      'x-amz-firehose-common-attributes': '{broken',
    });
    expect(res.statusCode).toBe(200);
    expect((await t.app.inject({ url: '/metrics' })).body).toContain('firetap_common_attributes_invalid_total 1');
  });

  it('writes one log line per request with counts, and never the access key', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_ACCESS_KEYS: 'super-secret-key' });
    await post(t, '/firehose/metrics', [lengthPrefixed(metricStreamRequest(id, sampleDatapoints(4)))], 'log-1', {
      'x-amz-firehose-access-key': 'super-secret-key',
    });
    await post(t, '/firehose/metrics', [], 'log-2', { 'x-amz-firehose-access-key': 'super-secret-kez' });
    const lines = t.logs().filter((l) => l.requestId);
    expect(lines).toEqual([
      expect.objectContaining({ requestId: 'log-1', status: 200, records: 1, items: 4, exportedItems: 4, msg: 'delivered', latencyMs: expect.any(Number) }),
      expect.objectContaining({ requestId: 'log-2', status: 401, error: 'invalid X-Amz-Firehose-Access-Key', msg: 'not delivered' }),
    ]);
    expect(JSON.stringify(t.logs())).not.toContain('super-secret');
  });

  it('exports its own metrics in the Prometheus text format', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
    await post(t, '/firehose/metrics', [lengthPrefixed(metricStreamRequest(id, sampleDatapoints(7)))]);
    const res = await t.app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toContain('text/plain');
    for (const expected of [
      'firetap_requests_total{route="/firehose/metrics",status="200"} 1',
      'firetap_records_total{signal="metrics"} 1',
      'firetap_items_total{signal="metrics",stage="received"} 7',
      'firetap_items_total{signal="metrics",stage="exported"} 7',
      'firetap_exports_total{signal="metrics",outcome="success"} 1',
      'firetap_export_duration_seconds_count{signal="metrics",outcome="success"} 1',
      'firetap_request_body_bytes_count{route="/firehose/metrics"} 1',
      'firetap_process_resident_memory_bytes',
    ]) {
      expect(res.body).toContain(expected);
    }
  });

  it('keeps answering health checks while a request of 64 MiB of log text is being processed', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    const event = { timestamp: 1, message: 'x'.repeat(900) };
    // ~1 MB of log events per record, compressible; 64 records ≈ 64 MiB of log text.
    const record = logsRecord(logsMessage({ events: Array.from({ length: 1100 }, () => event) }));
    const payload = firehoseBody(
      Array.from({ length: 64 }, () => record),
      'big',
    );
    const order: string[] = [];
    const big = fetch(`${base}/firehose/logs`, { method: 'POST', headers: firehoseHeaders('big'), body: payload }).then(async (r) => {
      order.push(`big:${r.status}`);
    });
    // Wait until the body has arrived and decoding has started.
    while (sink.attempts === 0) await new Promise((r) => setTimeout(r, 5));
    const health = await fetch(`${base}/healthz`);
    order.push(`healthz:${health.status}`);
    await big;
    expect(order).toEqual(['healthz:200', 'big:200']);
    expect(sink.lines('logs')).toHaveLength(64 * 1100);
  });
});
