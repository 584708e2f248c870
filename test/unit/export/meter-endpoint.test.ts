import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { createMeterEndpoint } from '../../../src/export/registry.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';
import { VERSION } from '../../../src/version.ts';
import { OtlpSink } from '../../helpers/otlp-sink.ts';

/** The meter endpoint is a JSON POST over the HTTP transport the OTLP exporter uses: same classification, same retries. */
describe('the meter endpoint over the shared HTTP transport', () => {
  let sink: OtlpSink;
  beforeEach(async () => {
    sink = await new OtlpSink().start();
  });
  afterEach(() => sink.stop());

  const records = Buffer.from(JSON.stringify([{ uniqueId: 'u1', usage: 3 }]));
  const send = (env: Record<string, string> = {}, deadlineInMs = 3000) => {
    const metrics = createMetrics();
    const endpoint = createMeterEndpoint(
      loadConfig({ FIRETAP_METER_ENDPOINT: `${sink.url}/ingest?token=secret`, FIRETAP_METER_HEADERS: 'authorization=Bearer%20t', ...env }),
      metrics,
      { retry: { initialBackoffMs: 1 } },
    );
    return { metrics, result: endpoint!.export({ signal: 'logs', payload: records, items: 1, deadline: Date.now() + deadlineInMs }) };
  };

  it('posts the records as JSON with its headers, retrying after a 503 that says Retry-After', async () => {
    sink.respond({ status: 503, headers: { 'retry-after': '0' } });
    const { metrics, result } = send();
    expect(await result).toEqual({ status: 'success' });
    expect(sink.attempts).toBe(2);
    expect(sink.received[0]!.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer t', 'user-agent': `firetap/${VERSION}` });
    expect(JSON.parse(sink.received[0]!.body.toString('utf8'))).toEqual([{ uniqueId: 'u1', usage: 3 }]);
    expect(await metrics.registry.getSingleMetricAsString('firetap_export_retries_total')).toMatch(/signal="meters"\} 1/);
  });

  it('is refused for good on a 400, naming the endpoint but not its address in the message, and its URL without the query in the detail', async () => {
    sink.always({ status: 400, body: 'bad record' });
    const result = await send().result;
    expect(result).toEqual({
      status: 'permanent',
      message: 'meter endpoint answered 400',
      detail: `meter endpoint ${sink.url}/ingest answered 400: bad record`,
      httpStatus: 400,
    });
    expect(sink.attempts).toBe(1);
  });

  it('gives up as retryable at the deadline while the endpoint stays unavailable', async () => {
    sink.always({ status: 502 });
    const result = await send({ FIRETAP_METER_TIMEOUT_MS: '500' }, 600).result;
    expect(result.status).toBe('retryable');
    expect(result.message).toMatch(/^meter endpoint answered 502 \(gave up after \d+ attempts: delivery deadline reached\)$/);
  });
});
