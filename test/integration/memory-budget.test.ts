import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { imageEnv, imageNodeFlags, startService, type Service } from '../helpers/service.ts';
import { firehoseBody, logsMessage, logsRecord } from '../helpers/cloudwatch-fixtures.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** What the chart gives the pod, and the RSS threshold it sets (85 % of it). */
const POD_LIMIT = GiB;
const CHART_MAX_RSS = Math.floor(0.85 * POD_LIMIT);

/** Peak resident set of a process so far (VmHWM), in bytes. */
const peakRss = (pid: number): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** A Firehose body of `inflated` bytes (valid JSON: a request whose records end in whitespace), gzipped to a few hundred KiB. */
function bodyBomb(inflated: number): Buffer {
  const head = Buffer.from('{"requestId":"bomb","timestamp":1,"records":[');
  return gzipSync(Buffer.concat([head, Buffer.alloc(inflated - head.length - 2, 0x20), Buffer.from(']}')]), { level: 9 });
}

/** A logs request of `records` records whose base64 data is gzip that inflates to `inflated` bytes each. */
function recordBombs(records: number, inflated: number, id: string): string {
  const bomb = gzipSync(Buffer.alloc(inflated, 0x20), { level: 9 });
  return firehoseBody(
    Array.from({ length: records }, () => bomb),
    id,
  );
}

let sink: OtlpSink;
let service: Service;
beforeAll(async () => {
  sink = await new OtlpSink().start();
  sink.always({ status: 200 });
  // As the image runs it in the chart's pod: its node flags and environment, the chart's RSS threshold; the
  // memory budget is the default derived from it. Concurrency above the bombs' number, so that none is shed at admission.
  const flags = imageNodeFlags().filter((f) => f !== '--enable-source-maps');
  service = await startService(
    {
      ...imageEnv(),
      NODE_ENV: 'test',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      FIRETAP_MAX_RSS_BYTES: String(CHART_MAX_RSS),
      FIRETAP_MAX_CONCURRENT_REQUESTS: '32',
      FIRETAP_DECODE_THREADS: '0',
    },
    undefined,
    [...flags, resolve(import.meta.dirname, '../../src/main.ts')],
  );
}, 30_000);
afterAll(async () => {
  service?.child.kill('SIGKILL');
  await service?.exited;
  await sink?.stop();
});

const post = (path: string, body: Buffer | string, headers: Record<string, string> = {}) =>
  fetch(`${service.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then(async (res) => ({
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    json: (await res.json()) as { errorMessage?: string },
  }));

const budgetInUse = async (): Promise<number> =>
  Number(/^firetap_memory_budget_bytes\{state="in_use"\} (\d+)$/m.exec(await (await fetch(`${service.base}/metrics`)).text())![1]);
/** What the budget holds once every exchange has closed (a share is given back on the server's 'close', just after the answer). */
async function settledBudget(): Promise<number> {
  for (let i = 0; i < 40; i++) {
    const inUse = await budgetInUse();
    if (inUse === 0) return 0;
    await new Promise((r) => setTimeout(r, 50));
  }
  return budgetInUse();
}

describe('the memory budget, against the real service', () => {
  it('keeps 16 gzip bombs of bodies and 8 requests of gzip-bomb records at once under the pod limit, and serves the next request', async () => {
    const body = bodyBomb(100 * MiB); // more than FIRETAP_MAX_BODY_BYTES (96 MiB) once inflated
    const records = recordBombs(2, 40 * MiB, 'records'); // each record more than FIRETAP_MAX_RECORD_BYTES (32 MiB)
    const before = peakRss(service.child.pid!);
    const answers = await Promise.all([
      ...Array.from({ length: 16 }, (_, i) => post('/firehose/metrics', body, { 'content-encoding': 'gzip', 'x-amz-firehose-request-id': `bomb-${i}` })),
      ...Array.from({ length: 8 }, (_, i) => post('/firehose/logs', records, { 'x-amz-firehose-request-id': `records-${i}` })),
    ]);
    const peak = peakRss(service.child.pid!);
    // Refused as too large or bad, or (no share of the budget within a second) 503 with Retry-After: Firehose retries.
    for (const a of answers.slice(0, 16)) expect([413, 503], JSON.stringify(a)).toContain(a.status);
    for (const a of answers.slice(16)) expect([400, 503], JSON.stringify(a)).toContain(a.status);
    for (const a of answers.filter((x) => x.status === 503))
      expect([a.retryAfter, a.json.errorMessage]).toEqual(['1', expect.stringContaining('FIRETAP_MEMORY_BUDGET_BYTES')]);
    expect(answers.filter((a) => a.status === 413).length).toBeGreaterThan(0);
    console.log(
      `memory budget storm: peak RSS ${Math.round(before / MiB)} → ${Math.round(peak / MiB)} MiB; answers ${JSON.stringify(answers.map((a) => a.status))}`,
    );
    expect(peak).toBeLessThan(POD_LIMIT);

    // Every share went back, and the very next request is served, not shed.
    expect(await settledBudget()).toBe(0);
    const normal = await post('/firehose/logs', firehoseBody([logsRecord(logsMessage({ events: [{ timestamp: 1, message: 'after the storm' }] }))], 'after'), {
      'x-amz-firehose-request-id': 'after',
    });
    expect(normal.status, JSON.stringify(normal.json)).toBe(200);
  }, 60_000);
});
