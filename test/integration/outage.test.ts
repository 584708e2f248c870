import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { sendLikeFirehose } from '../helpers/firehose-client.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { firehoseBody, firehoseHeaders, lengthPrefixed, metricStreamRequest, type CloudWatchDatapoint } from '../helpers/cloudwatch-fixtures.ts';

let sink: OtlpSink;
beforeEach(async () => {
  sink = await new OtlpSink().start();
});
afterEach(() => sink.stop());

/** A request whose data points are all distinct (their QueueName says which request and which point). */
function request(name: string, records: number, perRecord: number): string {
  const rs = Array.from({ length: records }, (_, r) => {
    const points: CloudWatchDatapoint[] = Array.from({ length: perRecord }, (_, p) => ({
      namespace: 'AWS/SQS',
      metricName: 'NumberOfMessagesSent',
      dimensions: { QueueName: `${name}-${r}-${p}` },
      timeMs: 1_795_000_000_000,
      count: 1,
      sum: 1,
      min: 1,
      max: 1,
    }));
    return lengthPrefixed(metricStreamRequest({ account: '123456789012', region: 'eu-west-1', streamName: 's' }, points));
  });
  return firehoseBody(rs, name);
}

const delivered = () => sink.lines('metrics').map((l) => l.attributes.QueueName as string);

describe('backend outage', () => {
  it('acknowledges nothing while the backend is down, then delivers every data point exactly once', async () => {
    // The backend comes back mid-way through the second attempts, not at a deadline: a 200 read after a request's
    // deadline (a stall of this process, the sink's too, as a decode thread starts) is rightly sent again on the retry.
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_REQUEST_TIMEOUT_MS: '1000' });
    const post = (id: string, body: string) => t.app.inject({ method: 'POST', url: '/firehose/metrics', headers: firehoseHeaders(id), payload: body });
    sink.always({ status: 503 });
    setTimeout(() => sink.always({ status: 200 }), 1500);
    const names = Array.from({ length: 12 }, (_, i) => `req${i}`);
    const results = await Promise.all(names.map((n) => sendLikeFirehose(post, n, request(n, 3, 4))));
    expect(results.every((r) => r.acknowledged)).toBe(true);
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    const got = delivered();
    expect(got.length).toBe(12 * 3 * 4);
    expect(new Set(got).size).toBe(got.length);
  });

  it('does not deliver twice the batches a failed attempt had already delivered, when Firehose retries the request', async () => {
    // Small batches: each request is several exports, some of which fail.
    const t = await buildTestApp({
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      FIRETAP_EXPORT_MAX_BATCH_BYTES: '2000',
      FIRETAP_EXPORT_CONCURRENCY: '1',
      FIRETAP_REQUEST_TIMEOUT_MS: '200',
    });
    const post = (id: string, body: string) => t.app.inject({ method: 'POST', url: '/firehose/metrics', headers: firehoseHeaders(id), payload: body });
    // The export holding record 3 of each request fails 12 times: longer than one attempt's retries, so the
    // request fails after records 0-2 went out, and Firehose's retry must not send those again.
    const failures = new Map<string, number>();
    sink.decideBy((body) => {
      const name = /(flap\d)-3-0/.exec(body.toString('latin1'))?.[1];
      if (!name) return undefined;
      const n = (failures.get(name) ?? 0) + 1;
      failures.set(name, n);
      return n <= 12 ? { status: 503 } : undefined;
    });
    const names = Array.from({ length: 6 }, (_, i) => `flap${i}`);
    const results = await Promise.all(names.map((name) => sendLikeFirehose(post, name, request(name, 6, 5))));
    expect(results.every((r) => r.acknowledged)).toBe(true);
    const got = delivered();
    expect(new Set(got).size).toBe(6 * 6 * 5);
    expect(got.length).toBe(6 * 6 * 5);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/firetap_items_skipped_total\{signal="metrics"\} [1-9]/);
  });

  it('acknowledges at once, without exporting again, a retry of a request it had already delivered (a lost 200)', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
    const body = request('once', 2, 3);
    const post = () => t.app.inject({ method: 'POST', url: '/firehose/metrics', headers: firehoseHeaders('once'), payload: body });
    expect((await post()).statusCode).toBe(200);
    const exports = sink.attempts;
    expect((await post()).statusCode).toBe(200);
    expect(sink.attempts).toBe(exports);
    expect(delivered()).toHaveLength(6);
    // A different body under the same id is a different request: delivered.
    const other = await t.app.inject({ method: 'POST', url: '/firehose/metrics', headers: firehoseHeaders('once'), payload: request('once-changed', 1, 1) });
    expect(other.statusCode).toBe(200);
    expect(delivered()).toHaveLength(7);
  });
});
