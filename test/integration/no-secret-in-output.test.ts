import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { firehoseBody, firehoseHeaders, lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';
import { startService } from '../helpers/service.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MARKER = 'S3CR3T-MARKER-7f1c';
const MAIN = resolve(import.meta.dirname, '../../src/main.ts');

/** Runs `node src/main.ts` with these settings until it exits (a bad setting ends it at once); everything it printed. */
async function refusedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', FIRETAP_LOG_LEVEL: 'trace', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return { code: code as number | null, output };
}

/** Every setting that carries a credential, given a malformed value that contains the marker. */
const MALFORMED: Array<[string, Record<string, string>]> = [
  ['OTEL_EXPORTER_OTLP_HEADERS without "="', { OTEL_EXPORTER_OTLP_HEADERS: `Authorization Basic ${MARKER}` }],
  ['OTEL_EXPORTER_OTLP_HEADERS with bad percent-encoding', { OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Basic%ZZ${MARKER}` }],
  ['OTEL_EXPORTER_OTLP_METRICS_HEADERS', { OTEL_EXPORTER_OTLP_METRICS_HEADERS: `${MARKER}` }],
  ['OTEL_EXPORTER_OTLP_LOGS_HEADERS', { OTEL_EXPORTER_OTLP_LOGS_HEADERS: `x-api-key ${MARKER}` }],
  ['FIRETAP_METER_HEADERS', { FIRETAP_METER_HEADERS: `Authorization: Bearer ${MARKER}` }],
  ['a header name that is no HTTP token', { OTEL_EXPORTER_OTLP_HEADERS: `Bearer ${MARKER}=x` }],
  ['FIRETAP_ACCESS_KEYS too long', { FIRETAP_ACCESS_KEYS: MARKER.repeat(300) }],
  ['FIRETAP_EVENTBRIDGE_API_KEYS too long', { FIRETAP_EVENTBRIDGE_API_KEYS: MARKER.repeat(300) }],
  ['FIRETAP_EVENTBRIDGE_BASIC_AUTH without a colon', { FIRETAP_EVENTBRIDGE_BASIC_AUTH: `user${MARKER}` }],
  [
    'an external id too short beside a bad role ARN',
    { FIRETAP_ENRICHMENT_REGIONS: 'eu-west-1', FIRETAP_ENRICHMENT_ROLE_ARNS: `arn:aws:iam::123456789012:role/r|${MARKER.slice(0, 1)},nope|${MARKER}` },
  ],
  ['userinfo in an invalid OTLP endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: `http://user:${MARKER}@bad host:4318` }],
  ['userinfo in an invalid signal endpoint', { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `ftp://user:${MARKER}@collector/v1/logs` }],
  ['userinfo in an invalid meter endpoint', { FIRETAP_METER_ENDPOINT: `http://u:${MARKER}@ bad` }],
  ['userinfo in a state store URL of the wrong scheme', { FIRETAP_STATE_URL: `http://firetap:${MARKER}@cache.local:6379` }],
];

describe('no secret in any output', () => {
  it.each(MALFORMED)('a malformed %s stops the start with the setting named, and the secret nowhere', async (_name, env) => {
    const { code, output } = await refusedStart(env);
    expect(code).toBe(2);
    expect(output).toContain(Object.keys(env).at(-1)!);
    expect(output).not.toContain(MARKER);
  });

  let sink: OtlpSink;
  beforeAll(async () => {
    sink = await new OtlpSink().start();
  });
  afterAll(() => sink.stop());

  it('a service running at trace level with credentials in its headers and endpoint URL prints none of them, also when the backend fails', async () => {
    const endpoint = sink.url.replace('http://', `http://firetap:${MARKER}@`);
    const service = await startService({
      FIRETAP_LOG_LEVEL: 'trace',
      FIRETAP_ACCESS_KEYS: `${MARKER}-key`,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer%20${MARKER}`,
      FIRETAP_METER_HEADERS: `Authorization=Bearer%20${MARKER}`,
      FIRETAP_EVENTBRIDGE_API_KEYS: `${MARKER}-eb`,
      FIRETAP_REQUEST_TIMEOUT_MS: '800',
    });
    try {
      const record = lengthPrefixed(metricStreamRequest({ account: '123456789012', region: 'eu-west-1', streamName: 's' }, sampleDatapoints(2)));
      const post = (id: string) =>
        fetch(`${service.base}/firehose/metrics`, {
          method: 'POST',
          headers: { ...firehoseHeaders(id), 'x-amz-firehose-access-key': `${MARKER}-key` },
          body: firehoseBody([record], id),
        });
      sink.always({ status: 200 });
      expect((await post('ok')).status).toBe(200);
      sink.always({ status: 401 });
      const refused = await post('refused');
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(await refused.text()).not.toContain(MARKER);
      expect(
        (
          await fetch(`${service.base}/firehose/metrics`, {
            method: 'POST',
            headers: { ...firehoseHeaders('wrong'), 'x-amz-firehose-access-key': `${MARKER}-guess` },
            body: '{}',
          })
        ).status,
      ).toBe(401);
      sink.always({ status: 200 });
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    // The sink saw the credentials, so the test would notice if they were never sent at all.
    expect(sink.received.some((r) => String(r.headers.authorization).includes(MARKER))).toBe(true);
    // Error lines were written (the backend's refusal), and debug ones: the check below covers them.
    expect(service.output()).toContain('"level":50');
    expect(service.output()).not.toContain(MARKER);
  });

  it('a service whose state store refuses its password prints neither password, delivers, and counts the fallback; with the password file it connects', async () => {
    const store = await new RedisServer({ password: `${MARKER}-right` }).start();
    const services = [];
    try {
      const wrong = await startService({
        FIRETAP_LOG_LEVEL: 'trace',
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        FIRETAP_STATE_URL: store.url.replace('redis://', `redis://default:${MARKER}-wrong@`),
      });
      services.push(wrong);
      const id = 'store-refused';
      const record = lengthPrefixed(metricStreamRequest({ account: '123456789012', region: 'eu-west-1', streamName: 's' }, sampleDatapoints(2)));
      const res = await fetch(`${wrong.base}/firehose/metrics`, { method: 'POST', headers: firehoseHeaders(id), body: firehoseBody([record], id) });
      expect(res.status).toBe(200);
      expect(await (await fetch(`${wrong.base}/metrics`)).text()).toMatch(/^firetap_state_errors_total\{op="ledger_read"\} [1-9]/m);
      expect(wrong.output()).toContain('state store unreachable');

      const file = join(mkdtempSync(join(tmpdir(), 'firetap-secret-')), 'password');
      writeFileSync(file, `${MARKER}-right\n`);
      const right = await startService({ FIRETAP_LOG_LEVEL: 'trace', FIRETAP_STATE_URL: store.url, FIRETAP_STATE_PASSWORD_FILE: file });
      services.push(right);
      expect(right.output()).toContain('state store connected');
    } finally {
      for (const s of services) s.child.kill('SIGTERM');
      await Promise.all(services.map((s) => s.exited));
      await store.close();
    }
    for (const s of services) expect(s.output()).not.toContain(MARKER);
  });

  it('names each unknown FIRETAP_ variable at start, with the setting it most likely meant', async () => {
    const service = await startService({ FIRETAP_PORT: '9000' });
    service.child.kill('SIGTERM');
    await service.exited;
    expect(service.output()).toContain('FIRETAP_PORT is not a firetap setting and is ignored; did you mean PORT?');
  });
});
