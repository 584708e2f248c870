import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { firehoseBody, lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';

let sink: OtlpSink;
beforeAll(async () => {
  sink = await new OtlpSink().start();
});
afterAll(() => sink.stop());
beforeEach(() => {
  sink.received.length = 0;
  sink.always({ status: 200 });
});

/** The app listening on loopback: what a caller sees is what the socket carries. */
async function listening(env: Record<string, string>) {
  const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, ...env });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  const post = async (headers: Record<string, string>, body: string) => {
    const res = await fetch(`${base}/firehose/metrics`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, text: await res.text() };
  };
  return { t, post };
}

const body = () =>
  firehoseBody([lengthPrefixed(metricStreamRequest({ account: '123456789012', region: 'eu-west-1', streamName: 's' }, sampleDatapoints(1)))], 'r-1');

describe('what an answer carries', () => {
  it('never echoes more than 256 characters of request id, even on a 401 before the body is read', async () => {
    const { post } = await listening({ FIRETAP_ACCESS_KEYS: 'k' });
    const long = 'x'.repeat(10_000);
    for (const headers of [{ 'x-amz-firehose-request-id': long }, { 'x-amz-firehose-request-id': long, 'x-amz-firehose-access-key': 'wrong' }] as Array<
      Record<string, string>
    >) {
      const res = await post(headers, body());
      expect(res.status).toBe(401);
      expect(res.text.length).toBeLessThan(600);
      expect(JSON.parse(res.text).requestId.length).toBeLessThanOrEqual(256);
    }
    // An id within the bound is echoed as it is, so that Firehose can match the answer.
    const ok = await post({ 'x-amz-firehose-request-id': 'r'.repeat(256) }, body());
    expect(JSON.parse(ok.text).requestId).toBe('r'.repeat(256));
  });

  it("names the signal and the backend's status, never its URL or words; the log has both, without userinfo", async () => {
    const { t, post } = await listening({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url.replace('http://', 'http://svc:pa55@'), FIRETAP_REQUEST_TIMEOUT_MS: '1000' });
    for (const status of [500, 503]) {
      sink.always({ status, body: `backend internals ${status}` });
      const res = await post({ 'x-amz-firehose-request-id': `r-${status}` }, body());
      expect(res.status).toBe(status === 500 ? 502 : 503);
      const answer = JSON.parse(res.text) as { errorMessage: string };
      expect(answer.errorMessage).toMatch(new RegExp(`^OTLP metrics backend answered ${status}`));
      expect(res.text).not.toContain('backend internals');
      expect(res.text).not.toContain('127.0.0.1');
      expect(res.text).not.toContain('pa55');
    }
    const logged = t
      .logs()
      .filter((l) => l.msg === 'export failed')
      .map((l) => l.backend);
    expect(logged).toEqual(
      expect.arrayContaining([
        `OTLP metrics backend ${sink.url}/v1/metrics answered 500: backend internals 500`,
        `OTLP metrics backend ${sink.url}/v1/metrics answered 503: backend internals 503`,
      ]),
    );
    expect(JSON.stringify(t.logs())).not.toContain('pa55');
  });
});
