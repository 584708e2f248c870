import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts';
import {
  eventBridgeEvent,
  firehoseBody,
  firehoseHeaders,
  lengthPrefixed,
  logsMessage,
  logsRecord,
  metricStreamRequest,
  sampleDatapoints,
} from '../helpers/cloudwatch-fixtures.ts';
import { ecsSpan, spanText, spansMessage, xraySegmentSpan } from '../helpers/span-fixtures.ts';

/** The live tap against a real listener on loopback: what it streams, how it ends, and that it never holds up a request. */
const KEY = 'tap-test-key';
const id = { account: '123456789012', region: 'eu-west-1', streamName: 's' };
type Line = Record<string, any>;

async function listening(env: Record<string, string> = {}): Promise<{ t: TestApp; base: string }> {
  const t = await buildTestApp({ FIRETAP_ACCESS_KEYS: KEY, FIRETAP_DECODE_THREADS: '0', ...env });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return { t, base: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}` };
}

const post = (base: string, route: string, records: Uint8Array[], requestId = `r-${Math.random()}`) =>
  fetch(`${base}${route}`, {
    method: 'POST',
    headers: firehoseHeaders(requestId, { 'x-amz-firehose-access-key': KEY }),
    body: firehoseBody(records, requestId),
  });

const metricRecord = (n: number, t = 0) => lengthPrefixed(metricStreamRequest(id, sampleDatapoints(n, 1_795_000_000_000 + t * 60_000)));
const logRecord = () =>
  logsRecord(
    logsMessage({
      logGroup: '/aws/lambda/checkout',
      events: [
        { timestamp: 1_795_000_000_000, message: 'one' },
        { timestamp: 1_795_000_000_001, message: 'two' },
      ],
    }),
  );

/** Opens a tap and resolves once its headers arrived (the tap is attached from then on). */
function openTap(base: string, query: string, key: string | undefined = KEY): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get(`${base}/debug/tap?${query}`, { headers: key ? { 'x-amz-firehose-access-key': key } : {} }, resolve).on('error', reject);
  });
}

async function readAll(res: IncomingMessage): Promise<Line[]> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk;
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
}

const errorOf = async (res: Response): Promise<string> => ((await res.json()) as { error: string }).error;
const records = (lines: Line[]) => lines.filter((l) => !('summary' in l) && !('dropped' in l));
const summaryOf = (lines: Line[]) => lines.at(-1)!.summary;

describe('the live tap', () => {
  it('is off unless FIRETAP_TAP is on, and says so by name', async () => {
    const { base } = await listening();
    const res = await fetch(`${base}/debug/tap`, { headers: { 'x-amz-firehose-access-key': KEY } });
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toContain('FIRETAP_TAP=on');
  });

  it('asks for the access key like the Firehose routes', async () => {
    const { base } = await listening({ FIRETAP_TAP: 'on' });
    const res = await fetch(`${base}/debug/tap?seconds=1`);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toContain('X-Amz-Firehose-Access-Key');
  });

  it('streams the lines the debug exporter prints for a metric-stream request and a logs request, then a summary', async () => {
    const { t, base } = await listening({ FIRETAP_TAP: 'on' });
    const tap = openTap(base, 'seconds=2');
    const res = await tap;
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect((await post(base, '/firehose/metrics', [metricRecord(3)])).status).toBe(200);
    expect((await post(base, '/firehose/logs', [logRecord()])).status).toBe(200);
    const lines = await readAll(res);
    expect(records(lines)).toEqual(t.debug());
    expect(records(lines).map((l) => l.signal)).toEqual(['metrics', 'metrics', 'metrics', 'logs', 'logs']);
    expect(summaryOf(lines)).toMatchObject({ lines: 5, dropped: 0, ended: 'seconds' });
    expect(t.logs().filter((l) => l.level >= 40)).toEqual([]);
  });

  it('sees only the signal and route it asks for', async () => {
    const { base } = await listening({ FIRETAP_TAP: 'on', FIRETAP_EVENTBRIDGE_ALLOW_UNAUTHENTICATED: 'true' });
    const res = await openTap(base, 'signal=logs&route=/eventbridge/events&seconds=2');
    await post(base, '/firehose/metrics', [metricRecord(2)]);
    await post(base, '/firehose/logs', [logRecord()]);
    const event = await fetch(`${base}/eventbridge/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(eventBridgeEvent()),
    });
    expect(event.status).toBe(200);
    const lines = records(await readAll(res));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ signal: 'logs' });
  });

  it('shows the spans of aws/spans records with signal=traces, whichever route they came on', async () => {
    const { base } = await listening({ FIRETAP_TAP: 'on' });
    const res = await openTap(base, 'signal=traces&seconds=2');
    await post(base, '/firehose/logs', [logRecord(), gzipSync(JSON.stringify(spansMessage([ecsSpan()])))]);
    await post(base, '/firehose/traces', [Buffer.from(spanText(xraySegmentSpan()))]);
    const lines = records(await readAll(res));
    expect(lines.map((l) => [l.signal, l.name]).sort()).toEqual([
      ['traces', 'GET /cart/{id}'],
      ['traces', 'legacy-api'],
    ]);
    const refused = await fetch(`${base}/debug/tap?signal=spans`, { headers: { 'x-amz-firehose-access-key': KEY } });
    expect([refused.status, await errorOf(refused)]).toEqual([400, 'signal must be one of metrics, logs, traces, not "spans"']);
  });

  it('ends after `limit` lines', async () => {
    const { base } = await listening({ FIRETAP_TAP: 'on' });
    const res = await openTap(base, 'limit=2&seconds=20');
    const started = Date.now();
    await post(base, '/firehose/metrics', [metricRecord(5)]);
    const lines = await readAll(res);
    expect(records(lines)).toHaveLength(2);
    expect(summaryOf(lines)).toMatchObject({ lines: 2, ended: 'limit' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('ends with a summary when the service shuts down, without holding the shutdown up', async () => {
    const { t, base } = await listening({ FIRETAP_TAP: 'on' });
    const res = await openTap(base, 'seconds=60');
    const lines = readAll(res);
    const started = Date.now();
    await t.app.close();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(summaryOf(await lines)).toMatchObject({ ended: 'shutdown' });
  });

  it('rejects a bad limit with what is allowed', async () => {
    const { base } = await listening({ FIRETAP_TAP: 'on' });
    const res = await fetch(`${base}/debug/tap?limit=0`, { headers: { 'x-amz-firehose-access-key': KEY } });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toContain('limit must be an integer from 1 to 100000');
  });

  it('drops and counts lines for a client that does not read, while Firehose requests are answered 200 at once', async () => {
    const { base } = await listening({ FIRETAP_TAP: 'on' });
    const res = await openTap(base, 'seconds=10&limit=100000');
    res.pause();
    const requests = 20;
    const perRequest = 1000;
    for (let i = 0; i < requests; i++) {
      const started = Date.now();
      const answer = await post(base, '/firehose/metrics', [metricRecord(perRequest, i)]);
      expect(answer.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000);
    }
    res.resume();
    const lines = await readAll(res);
    const dropped = lines.filter((l) => 'dropped' in l).reduce((n, l) => n + l.dropped, 0);
    const summary = summaryOf(lines);
    expect(dropped).toBeGreaterThan(0);
    expect(summary.dropped).toBe(dropped);
    expect(records(lines)).toHaveLength(summary.lines);
    expect(summary.lines + summary.dropped).toBe(requests * perRequest);
  }, 30_000);

  it('refuses a fifth tap while four are connected', async () => {
    const { base } = await listening({ FIRETAP_TAP: 'on' });
    const taps = await Promise.all([1, 2, 3, 4].map(() => openTap(base, 'seconds=1')));
    const fifth = await fetch(`${base}/debug/tap`, { headers: { 'x-amz-firehose-access-key': KEY } });
    expect(fifth.status).toBe(503);
    expect(await errorOf(fifth)).toContain('4 taps are connected already');
    await Promise.all(taps.map(readAll));
    const again = await openTap(base, 'seconds=1');
    expect(again.statusCode).toBe(200);
    await readAll(again);
  });
});

describe('firetap tap', () => {
  const main = resolve(import.meta.dirname, '../../src/main.ts');
  async function run(
    args: string[],
    env: Record<string, string>,
    onConnected?: () => Promise<void>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [main, 'tap', ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    let connected = false;
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (!connected && onConnected && stderr.includes('connected to')) {
        connected = true;
        void onConnected();
      }
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stdout, stderr };
  }

  it('prints the lines that match its filter and exits 0 at the end', async () => {
    const { base } = await listening({ FIRETAP_TAP: 'on' });
    const posted: Promise<unknown>[] = [];
    const { code, stdout, stderr } = await run(['--url', base, '--seconds', '3', '--filter', 'namespace=AWS/RDS'], { FIRETAP_ACCESS_KEY: KEY }, async () => {
      posted.push(post(base, '/firehose/metrics', [metricRecord(6)]), post(base, '/firehose/logs', [logRecord()]));
    });
    expect(posted).toHaveLength(2);
    expect((await Promise.all(posted as Promise<Response>[])).map((r) => r.status)).toEqual([200, 200]);
    expect(code).toBe(0);
    const lines = stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.attributes.Namespace === 'AWS/RDS')).toBe(true);
    expect(stderr).toContain('"summary"');
  }, 20_000);

  it('says why it cannot tap: no key, the tap off, nothing listening', async () => {
    const on = await listening({ FIRETAP_TAP: 'on' });
    const noKey = await run(['--url', on.base, '--seconds', '1'], {});
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toContain('401');
    expect(noKey.stderr).toContain('FIRETAP_ACCESS_KEY');
    const off = await listening();
    const offRun = await run(['--url', off.base], { FIRETAP_ACCESS_KEY: KEY });
    expect(offRun.code).not.toBe(0);
    expect(offRun.stderr).toContain('FIRETAP_TAP=on');
    const port = (on.t.app.server.address() as AddressInfo).port;
    await on.t.app.close();
    const refused = await run(['--url', `http://127.0.0.1:${port}`], { FIRETAP_ACCESS_KEY: KEY });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('cannot reach');
  }, 20_000);
});
