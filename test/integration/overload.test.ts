import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { firehoseBody, firehoseHeaders, lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';

let sink: OtlpSink;
beforeEach(async () => {
  sink = await new OtlpSink().start();
});
afterEach(() => sink.stop());

const record = lengthPrefixed(metricStreamRequest({ account: '123456789012', region: 'eu-west-1', streamName: 's' }, sampleDatapoints(5)));
const post = (t: Awaited<ReturnType<typeof buildTestApp>>, id: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/firehose/metrics', headers: firehoseHeaders(id, headers), payload: firehoseBody([record], id) });

describe('overload', () => {
  it('answers requests beyond the concurrency limit at once with 503 and Retry-After, keeps /healthz answering, and recovers', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_MAX_CONCURRENT_REQUESTS: '2' });
    sink.always({ status: 200, delayMs: 400 });
    const started = Date.now();
    const pending = Array.from({ length: 10 }, (_, i) => post(t, `r${i}`));
    const health = await t.app.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
    const answers = await Promise.all(pending);
    const shed = answers.filter((a) => a.statusCode === 503);
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(2);
    expect(shed).toHaveLength(8);
    for (const a of shed) {
      expect(a.headers['retry-after']).toBe('1');
      expect(a.json().errorMessage).toContain('FIRETAP_MAX_CONCURRENT_REQUESTS');
    }
    expect(Date.now() - started).toBeLessThan(2000);
    sink.always({ status: 200 });
    expect((await post(t, 'after')).statusCode).toBe(200);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('firetap_requests_shed_total{reason="concurrency"} 8');
    expect(metrics).toContain('firetap_requests_in_flight 0');
  });

  it('sheds load while memory is above its limit', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_MAX_HEAP_USED_BYTES: '1' });
    // under-pressure samples once a second.
    await new Promise((r) => setTimeout(r, 1100));
    const res = await post(t, 'heavy');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ requestId: 'heavy', errorMessage: expect.stringContaining('overloaded (heapUsedBytes') });
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('ends a request to a backend slower than the deadline with a retryable 503, while other routes keep answering', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_REQUEST_TIMEOUT_MS: '1000' });
    sink.always({ status: 200, delayMs: 5000 });
    const started = Date.now();
    const slow = post(t, 'slow');
    const metrics = await t.app.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    const res = await slow;
    expect(res.statusCode).toBe(503);
    expect(res.json().errorMessage).toMatch(/no answer within \d+ ms/);
    expect(Date.now() - started).toBeLessThan(2500);
  });
});

describe('security', () => {
  it('never reads or decodes the body of a request without a valid access key', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_ACCESS_KEYS: 'right-key', FIRETAP_MAX_CONCURRENT_REQUESTS: '1' });
    const big = firehoseBody(
      Array.from({ length: 200 }, () => record),
      'flood',
    );
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/firehose/metrics',
          headers: firehoseHeaders(`f${i}`, i % 2 ? { 'x-amz-firehose-access-key': 'wrong' } : {}),
          payload: big,
        }),
      ),
    );
    expect(answers.every((a) => a.statusCode === 401)).toBe(true);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    // No body was measured, no record counted, no slot taken (the limit of 1 shed nothing).
    expect(metrics).not.toMatch(/firetap_request_body_bytes_count\{[^}]*\} [1-9]/);
    expect(metrics).not.toMatch(/firetap_records_total\{[^}]*\} [1-9]/);
    expect(metrics).not.toMatch(/firetap_requests_shed_total\{[^}]*\} [1-9]/);
    expect(sink.attempts).toBe(0);
  });
});
