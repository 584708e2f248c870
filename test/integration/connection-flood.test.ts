import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { firehoseBody, firehoseHeaders, lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';
import { connectionFlood, slowClient, startServiceWithFileLimit } from '../helpers/slow-clients.ts';
import type { Service } from '../helpers/service.ts';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { buildCertificate } from '../helpers/certs.ts';

const KEY = 'flood-test-key';
const record = lengthPrefixed(metricStreamRequest({ account: '123456789012', region: 'eu-west-1', streamName: 's' }, sampleDatapoints(2)));

let service: Service | undefined;
afterEach(async () => {
  if (service && service.child.exitCode === null) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
  service = undefined;
});

function send(
  base: string,
  path: string,
  opts: { agent?: Agent | false; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: opts.method ?? 'GET', agent: opts.agent ?? false, headers: opts.headers ?? {}, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${path} within 5 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

const postFirehose = (base: string, id: string, agent: Agent | false = false) =>
  send(base, '/firehose/metrics', {
    method: 'POST',
    agent,
    headers: firehoseHeaders(id, { 'x-amz-firehose-access-key': KEY }),
    body: firehoseBody([record], id),
  });

const metricValue = (text: string, series: string): number => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

describe('a flood of slow connections', () => {
  it('neither ends the process nor shuts out prompt clients, and Firehose is served right after it', async () => {
    // 512 files: at most 256 client connections; the flood keeps 1,500 trying.
    service = await startServiceWithFileLimit(512, { FIRETAP_ACCESS_KEYS: KEY, FIRETAP_HEADERS_TIMEOUT_MS: '2000' });
    const port = Number(new URL(service.base).port);
    const established = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await send(service.base, '/healthz', { agent: established })).status).toBe(200);

    // 1,500 connections at once, 300 more a second: the cap is reached at once and connections keep coming.
    const flood = connectionFlood(port, { initial: 1500, perSecond: 300, everyMs: 1000 });
    try {
      await new Promise((r) => setTimeout(r, 2000));
      // A connection made before the flood, and new ones, are served while it goes on.
      expect((await send(service.base, '/healthz', { agent: established })).status).toBe(200);
      for (let i = 0; i < 10; i++) expect((await send(service.base, '/healthz')).status).toBe(200);
      expect((await postFirehose(service.base, 'during-flood')).status).toBe(200);
      expect(flood.live()).toBeGreaterThan(100);
    } finally {
      await flood.stop();
    }
    const after = Date.now();
    expect((await postFirehose(service.base, 'after-flood', established)).status).toBe(200);
    expect(Date.now() - after).toBeLessThan(2000);
    expect(service.child.exitCode).toBeNull();
    expect(service.output()).not.toMatch(/EMFILE|fatal error/);

    const metrics = (await send(service.base, '/metrics')).body;
    // Of the ~2,100 flood connections, all but the 256 let in were closed at once or once they had waited longest.
    const refused =
      metricValue(metrics, 'firetap_connections_refused_total{closed="waiting"}') + metricValue(metrics, 'firetap_connections_refused_total{closed="new"}');
    expect(refused).toBeGreaterThan(flood.opened() - 256 - 50);
    expect(metricValue(metrics, 'firetap_connections_refused_total{closed="waiting"}')).toBeGreaterThan(500);
    expect(metricValue(metrics, 'firetap_connections_open')).toBeLessThanOrEqual(256);
    established.destroy();
  }, 20_000);

  it('closes a connection whose request head does not arrive within FIRETAP_HEADERS_TIMEOUT_MS, however it trickles, with 408', async () => {
    service = await startServiceWithFileLimit(1024, { FIRETAP_ACCESS_KEYS: KEY, FIRETAP_HEADERS_TIMEOUT_MS: '1000' });
    const port = Number(new URL(service.base).port);
    const trickling = slowClient(port, 'POST /firehose/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 200);
    const silent = slowClient(port, '', 60_000);
    const [trickled, waited] = await Promise.all([trickling.closed, silent.closed]);
    for (const ms of [trickled, waited]) {
      expect(ms).toBeGreaterThanOrEqual(1000);
      expect(ms).toBeLessThan(2000);
    }
    expect(trickling.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(trickling.received()).toContain('FIRETAP_HEADERS_TIMEOUT_MS');
    const metrics = (await send(service.base, '/metrics')).body;
    expect(metricValue(metrics, 'firetap_connections_timed_out_total{phase="head"}')).toBe(2);
  }, 10_000);

  it('survives running out of files when FIRETAP_MAX_CONNECTIONS is set above what the file limit allows', async () => {
    service = await startServiceWithFileLimit(256, { FIRETAP_ACCESS_KEYS: KEY, FIRETAP_MAX_CONNECTIONS: '5000', FIRETAP_HEADERS_TIMEOUT_MS: '20000' });
    expect(service.output()).toContain('FIRETAP_MAX_CONNECTIONS leaves fewer than 256 of the 256 open files');
    const port = Number(new URL(service.base).port);
    const flood = connectionFlood(port, { initial: 600, perSecond: 0, everyMs: 1000 });
    // Long enough for the memory sampler (once a second) to find no file to read.
    await new Promise((r) => setTimeout(r, 2500));
    await flood.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect((await postFirehose(service.base, 'after-emfile')).status).toBe(200);
    expect(service.child.exitCode).toBeNull();
    expect(service.output()).not.toContain('fatal error');
    const metrics = (await send(service.base, '/metrics')).body;
    expect(metricValue(metrics, 'firetap_sampler_errors_total{sampler="memory"}')).toBeGreaterThan(0);
    expect(service.output().match(/could not read memory use/g)).toHaveLength(1);
  }, 15_000);

  it('closes a TLS handshake that has not completed within FIRETAP_HEADERS_TIMEOUT_MS, however it trickles', async () => {
    const { certFile, keyFile } = await buildCertificate();
    const t = await buildTestApp({ FIRETAP_TLS_CERT_FILE: certFile, FIRETAP_TLS_KEY_FILE: keyFile, FIRETAP_HEADERS_TIMEOUT_MS: '1000' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as { port: number }).port;
    // A TLS record header promising a 512-byte ClientHello, then a byte every 200 ms (each resets TLS's own idle timer).
    const trickling = slowClient(port, '\x16\x03\x01\x02\x00', 200);
    const ms = await trickling.closed;
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(2000);
    expect((await t.app.inject({ url: '/metrics' })).body).toContain('firetap_connections_timed_out_total{phase="handshake"} 1');
  });
});
