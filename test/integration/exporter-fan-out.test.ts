import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { firehoseBody, firehoseHeaders, logsMessage, logsRecord } from '../helpers/cloudwatch-fixtures.ts';

let sink: OtlpSink;
beforeEach(async () => {
  sink = await new OtlpSink().start();
});
afterEach(() => sink.stop());

const events = [1, 2, 3].map((i) => ({ timestamp: i, message: `line ${i}` }));
const post = (t: { app: { inject: (options: object) => Promise<any> } }, requestId: string) =>
  (t.app.inject as any)({
    method: 'POST',
    url: '/firehose/logs',
    headers: firehoseHeaders(requestId),
    payload: firehoseBody([logsRecord(logsMessage({ events }))], requestId),
  });

describe('a signal exported to several exporter types', () => {
  it('acknowledges a Firehose request only once every exporter accepted it, retrying only the one that failed', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_LOGS_EXPORTERS: 'otlp-http,debug' });
    sink.respond({ status: 503 }, { status: 503 });
    const res = await post(t, 'both');
    expect(res.statusCode).toBe(200);
    expect(sink.attempts).toBe(3);
    expect(sink.lines('logs').map((l) => l.body)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(t.debug().map((l) => l.body)).toEqual(['line 1', 'line 2', 'line 3']);
  });

  it('answers 503 while one exporter stays down, though the other accepted', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_LOGS_EXPORTERS: 'debug,otlp-http', FIRETAP_REQUEST_TIMEOUT_MS: '500' });
    sink.always({ status: 503 });
    const res = await post(t, 'one-down');
    expect(res.statusCode).toBe(503);
    expect(res.json().errorMessage).toContain('OTLP logs backend answered 503');
    expect(t.debug()).toHaveLength(3);
  });

  it("sends Firehose's retry of that request only to the exporter that had not accepted: nothing twice, nothing lost", async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_LOGS_EXPORTERS: 'debug,otlp-http', FIRETAP_REQUEST_TIMEOUT_MS: '500' });
    // Firehose sends the same body again under the same request id.
    const payload = firehoseBody([logsRecord(logsMessage({ events }))], 'retried');
    const attempt = () => t.app.inject({ method: 'POST', url: '/firehose/logs', headers: firehoseHeaders('retried'), payload });
    sink.always({ status: 503 });
    expect((await attempt()).statusCode).toBe(503);
    sink.always({ status: 200 });
    expect((await attempt()).statusCode).toBe(200);
    expect(sink.lines('logs').map((l) => l.body)).toEqual(['line 1', 'line 2', 'line 3']);
    expect(t.debug().map((l) => l.body)).toEqual(['line 1', 'line 2', 'line 3']);
  });
});
