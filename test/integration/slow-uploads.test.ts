import { afterEach, describe, expect, it } from 'vitest';
import { firehoseBody, firehoseHeaders, lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';
import { slowClient, uploadHead, type SlowClient } from '../helpers/slow-clients.ts';
import { startService, type Service } from '../helpers/service.ts';

const KEY = 'slow-upload-key';
const record = lengthPrefixed(metricStreamRequest({ account: '123456789012', region: 'eu-west-1', streamName: 's' }, sampleDatapoints(2)));

let service: Service | undefined;
let clients: SlowClient[] = [];
afterEach(async () => {
  for (const c of clients) c.stop();
  clients = [];
  if (service && service.child.exitCode === null) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
  service = undefined;
});

const post = (base: string, id: string) =>
  fetch(`${base}/firehose/metrics`, {
    method: 'POST',
    headers: firehoseHeaders(id, { 'x-amz-firehose-access-key': KEY }),
    body: firehoseBody([record], id),
    signal: AbortSignal.timeout(5000),
  });

/** Uploads that promise a megabyte and send a byte every `everyMs`, with a valid key. */
function slowUploads(port: number, count: number, everyMs: number): SlowClient[] {
  const started = Array.from({ length: count }, (_, i) =>
    slowClient(port, uploadHead('/firehose/metrics', 1_000_000, { 'x-amz-firehose-request-id': `slow-${i}`, 'x-amz-firehose-access-key': KEY }), everyMs),
  );
  clients.push(...started);
  return started;
}

const metricValue = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

describe('slow uploads', () => {
  it('do not take the processing slots: a Firehose request is answered 200 while 20 bodies trickle in', async () => {
    service = await startService({ FIRETAP_ACCESS_KEYS: KEY, FIRETAP_MAX_CONCURRENT_REQUESTS: '16' });
    const uploads = slowUploads(Number(new URL(service.base).port), 20, 500);
    await new Promise((r) => setTimeout(r, 500));
    const res = await post(service.base, 'prompt');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ requestId: 'prompt' });
    const metrics = await (await fetch(`${service.base}/metrics`)).text();
    expect(metrics).not.toMatch(/firetap_requests_shed_total\{[^}]*\} [1-9]/);
    expect(uploads.every((u) => !u.socket.destroyed)).toBe(true);
  }, 10_000);

  it('answers a body that has not arrived within FIRETAP_BODY_TIMEOUT_MS with 408 and gives back what it held', async () => {
    service = await startService({
      FIRETAP_ACCESS_KEYS: KEY,
      FIRETAP_MAX_CONCURRENT_REQUESTS: '2',
      FIRETAP_MAX_RECEIVING_REQUESTS: '3',
      FIRETAP_HEADERS_TIMEOUT_MS: '1000',
      FIRETAP_BODY_TIMEOUT_MS: '2000',
    });
    const uploads = slowUploads(Number(new URL(service.base).port), 3, 300);
    await new Promise((r) => setTimeout(r, 300));
    // Every receiving slot is held: the next request is shed before its body is read.
    const shed = await post(service.base, 'while-receiving');
    expect(shed.status).toBe(503);
    expect(((await shed.json()) as { errorMessage: string }).errorMessage).toContain('FIRETAP_MAX_RECEIVING_REQUESTS');

    const closedAfter = await Promise.all(uploads.map((u) => u.closed));
    for (const ms of closedAfter) {
      expect(ms).toBeGreaterThanOrEqual(2000);
      expect(ms).toBeLessThan(3500);
    }
    for (const u of uploads) {
      expect(u.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(u.received()).toContain('FIRETAP_BODY_TIMEOUT_MS');
    }
    // The slots are free again.
    expect((await post(service.base, 'after')).status).toBe(200);
    const metrics = await (await fetch(`${service.base}/metrics`)).text();
    expect(metricValue(metrics, 'firetap_connections_timed_out_total{phase="body"}')).toBe(3);
    expect(metricValue(metrics, 'firetap_requests_shed_total{reason="receiving"}')).toBe(1);
    expect(metricValue(metrics, 'firetap_requests_in_flight')).toBe(0);
    // A body cut short by the timeout is the client's doing, logged as such.
    expect(service.output()).not.toContain('unexpected error');
    expect(service.output().match(/"msg":"request body timed out"/g)).toHaveLength(3);
  }, 15_000);
});
