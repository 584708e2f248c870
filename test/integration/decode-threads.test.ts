import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DecodePool } from '../../src/pipeline/decode-pool.ts';
import { appendMetricStreamRecord } from '../../src/decode/metric-stream.ts';
import { OtlpBatch } from '../../src/otlp/batch.ts';
import { scanEnvelope } from '../../src/firehose/envelope.ts';
import { BufferPool } from '../../src/memory/buffer-pool.ts';
import { decodeToJson, otlpTypes } from '../../src/otlp/schema.ts';
import { buildScopeIndex, scopeKey, type ScopeIndex, type TagFilter } from '../../src/enrich/snapshot.ts';
import { buildTestApp, untilDecodeThreadsRun } from '../helpers/build-test-app.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import {
  firehoseBody,
  firehoseHeaders,
  lengthPrefixed,
  metricStreamRequest,
  metricStreamRequestV07,
  sampleDatapoints,
} from '../helpers/cloudwatch-fixtures.ts';
import pino from 'pino';

/**
 * Metric records are rewritten on a decode thread (FIRETAP_DECODE_THREADS, 1 by default on more than one CPU)
 * or on the main thread. Whichever does it, the backend must receive the same bytes and the request the same
 * answer: these tests post the same requests to both and compare.
 */
const OTEL = resolve(import.meta.dirname, '../fixtures/conformance/otelcol-awsfirehose/receiver/awsfirehosereceiver/internal/unmarshaler');
const id = { account: '123456789012', region: 'eu-west-1', streamName: 's' };
const frame = (n: number, t = 0) => metricStreamRequest(id, sampleDatapoints(n, 1_795_000_000_000 + t * 60_000));
const pdata = (file: string) =>
  otlpTypes.ExportMetricsServiceRequest.encode(
    otlpTypes.ExportMetricsServiceRequest.fromObject(parseYaml(readFileSync(join(OTEL, 'otlpmetricstream/testdata', file), 'utf8'))),
  ).finish();

/** Requests as bodies: each case a list of records, some bad on purpose. */
const CASES: Array<[string, string]> = [
  [
    'the OpenTelemetry Collector conformance frames, one record each',
    firehoseBody([lengthPrefixed(pdata('single_record.yaml')), lengthPrefixed(pdata('multiple_records.yaml'))], 'conformance'),
  ],
  [
    'records of several frames, mixed with 0.7.0 and JSON records',
    firehoseBody(
      [
        lengthPrefixed(frame(40), frame(25, 1), frame(60, 2)),
        lengthPrefixed(metricStreamRequestV07(id, sampleDatapoints(3))),
        readFileSync(join(OTEL, 'cwmetricstream/testdata/single_record')),
      ],
      'mixed',
    ),
  ],
  [
    'bad records between good ones (bad base64, a truncated frame, not protobuf)',
    firehoseBody(
      [
        lengthPrefixed(frame(5)),
        Buffer.from('not base64 at all'),
        lengthPrefixed(frame(5, 1)).subarray(0, 50),
        Buffer.from([0xff, 0xff, 0xff]),
        lengthPrefixed(frame(5, 2)),
      ],
      'bad',
    ),
  ],
  // JSON allows '\/' in a string; the envelope unescapes such a record before the thread sees it.
  ['a record whose base64 text has JSON escapes', firehoseBody([lengthPrefixed(frame(3)), lengthPrefixed(frame(4))], 'escaped').replaceAll('/', '\\/')],
];

let sink: OtlpSink;
beforeAll(async () => {
  sink = await new OtlpSink().start();
});
afterAll(() => sink.stop());

async function deliver(threads: string, body: string, env: Record<string, string> = {}) {
  sink.received.length = 0;
  const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_DECODE_THREADS: threads, ...env });
  if (threads !== '0') await untilDecodeThreadsRun(t, Number(threads));
  const res = await t.app.inject({ method: 'POST', url: '/firehose/metrics', headers: firehoseHeaders('r'), payload: body });
  const rejected = t
    .logs()
    .filter((l) => l.msg === 'records rejected')
    .map((l) => [l.rejected, l.reasons, l.first]);
  const where = /firetap_metric_requests_decoded_total\{thread="decode"\} 1/.test((await t.app.inject({ url: '/metrics' })).body) ? 'decode' : 'main';
  return { status: res.statusCode, answer: res.json().errorMessage, exports: sink.received.map((r) => r.body), rejected, where };
}

/**
 * A pool of one thread, once it runs, for the tests that drive it directly: `job(points, deadline?)` posts a request of one record
 * of that many data points, its body and output in shared memory; the pool is closed when the test ends.
 */
async function onePool(
  opts: { onRestart?: () => void; log?: pino.Logger; enrichment?: { snapshot(): ReadonlyMap<string, ScopeIndex> }; filter?: TagFilter } = {},
) {
  const pool = new DecodePool(1, {
    log: opts.log ?? pino({ level: 'silent' }),
    enrichment: opts.enrichment,
    ...(opts.filter ? { filter: opts.filter } : {}),
    ...(opts.onRestart ? { onRestart: opts.onRestart } : {}),
  });
  onTestFinished(() => pool.close());
  pool.start();
  for (let i = 0; i < 400 && pool.running < 1; i++) await new Promise((r) => setTimeout(r, 10));
  const buffers = new BufferPool(0);
  const request = (body: Buffer) => {
    const shared = buffers.acquire(body.length, true);
    body.copy(shared);
    return { envelope: scanEnvelope(shared.subarray(0, body.length), 10), out: buffers.acquire(4 * body.length, true) };
  };
  const job = (points: number, deadline?: number, enrich = false) => {
    const { envelope, out } = request(Buffer.from(firehoseBody([lengthPrefixed(frame(points))], 'job')));
    return pool.decode(envelope, out, { resourceAttributes: [], metricFormat: 'auto', attributesOn: 'datapoint', enrich }, deadline);
  };
  const threads = () => (pool as unknown as { threads: Array<{ worker: { terminate(): Promise<number> } }> }).threads;
  return { pool, request, job, threads };
}

describe('decode threads', () => {
  describe.each([
    ['one batch per request', {}],
    ['batches cut at 2 KiB', { FIRETAP_EXPORT_MAX_BATCH_BYTES: '2048' }],
  ])('%s', (_name, env) => {
    it.each(CASES)(
      '%s: the backend gets the same bytes, and the request the same answer, from a decode thread as from the main thread',
      async (_case, body) => {
        if (_case.includes('escapes')) expect(body).toContain('\\/');
        const main = await deliver('0', body, env);
        const threaded = await deliver('1', body, env);
        expect(main.exports.length).toBeGreaterThan(0);
        expect([main.where, threaded.where]).toEqual(['main', 'decode']);
        expect(threaded.status).toBe(main.status);
        expect(threaded.answer).toBe(main.answer);
        expect(threaded.rejected).toEqual(main.rejected);
        expect(threaded.exports.map((b) => b.toString('base64'))).toEqual(main.exports.map((b) => b.toString('base64')));
      },
    );
  });

  it('a request whose every record is bad is refused alike on either thread', async () => {
    const body = firehoseBody([Buffer.from([0xff, 0xff]), Buffer.from('nope')], 'all-bad');
    const main = await deliver('0', body);
    const threaded = await deliver('1', body);
    expect(main.status).toBe(400);
    expect({ ...threaded, where: 'main' }).toEqual(main);
  });

  it('says it is busy once every thread has the given number of requests in hand, and not once they are answered', async () => {
    const { pool, job } = await onePool();
    expect(pool.busy(1)).toBe(false);
    const jobs = [job(200), job(200)];
    expect(pool.busy(2)).toBe(true);
    expect(pool.busy(3)).toBe(false);
    const results = await Promise.all(jobs);
    expect(results.map((r) => r.items[0])).toEqual([200, 200]);
    expect(pool.busy(1)).toBe(false);
  });

  it('a decode thread that dies fails the requests it held as retryable, and the next request gets a new thread', async () => {
    let restarts = 0;
    const { job, threads } = await onePool({ onRestart: () => restarts++ });
    const held = job(2000);
    await threads()[0]!.worker.terminate();
    await expect(held).rejects.toMatchObject({ code: 'FIRETAP_INTERNAL', retryable: true, message: expect.stringContaining('decode thread stopped') });
    expect(restarts).toBe(1);
    const next = await job(2000);
    expect(next.errors).toEqual([]);
    expect(next.items[0]).toBe(2000);
  });

  it('retires a thread that keeps stopping right after it starts, and then says it is busy so that the main thread decodes', async () => {
    const errors: string[] = [];
    let restarts = 0;
    const { pool, job, threads } = await onePool({
      log: pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line).msg) }),
      onRestart: () => restarts++,
    });
    for (let i = 0; i < 3; i++) await threads()[0]!.worker.terminate();
    expect(restarts).toBe(2);
    expect(errors).toEqual([expect.stringContaining('not starting it again')]);
    expect(pool.busy(1)).toBe(true);
    await expect(job(1)).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('no decode thread') });
  });

  it('gives a thread the whole of a large snapshot, in parts, with the tag filter applied, a refresh from the next request on, and counts it busy meanwhile', async () => {
    const instance = (k: number) => `i-0${k.toString(16).padStart(16, '0')}`;
    const snapshotOf = (team: string) => {
      const resources = Array.from({ length: 2500 }, (_, k) => ({
        arn: `arn:aws:ec2:eu-west-1:${id.account}:instance/${instance(k)}`,
        tags: { team, secret: 'x' },
        attributes: {},
        sources: ['ec2'],
      }));
      return new Map([[scopeKey(id.account, id.region), buildScopeIndex(id.account, id.region, resources, { include: [], exclude: ['secret'] })]]);
    };
    let snapshot = snapshotOf('a');
    const { pool, request } = await onePool({ enrichment: { snapshot: () => snapshot }, filter: { include: [], exclude: ['secret'] } });
    const tagsOfLast = async () => {
      const point = {
        namespace: 'AWS/EC2',
        metricName: 'CPUUtilization',
        dimensions: { InstanceId: instance(2499) },
        timeMs: 1_795_000_000_000,
        count: 1,
        sum: 1,
        min: 1,
        max: 1,
      };
      const { envelope, out } = request(Buffer.from(firehoseBody([lengthPrefixed(metricStreamRequest(id, [point]))], 'tags')));
      const result = await pool.decode(envelope, out, { resourceAttributes: [], metricFormat: 'auto', attributesOn: 'datapoint', enrich: true });
      expect(result.hits).toEqual([['AWS/EC2', 1]]);
      const json = JSON.stringify(decodeToJson('metrics', out.subarray(0, result.length)));
      return [...json.matchAll(/"key":"(aws\.tag\.[^"]+)","value":\{"stringValue":"([^"]*)"/g)].map((m) => `${m[1]}=${m[2]}`);
    };
    expect(await tagsOfLast()).toEqual(['aws.tag.team=a']);
    snapshot = snapshotOf('b');
    const next = tagsOfLast();
    // While the thread is being sent the new snapshot, other requests are to be decoded on the main thread.
    expect(pool.busy(4)).toBe(true);
    expect(await next).toEqual(['aws.tag.team=b']);
    expect(pool.busy(1)).toBe(false);
  });

  it('stops a thread still decoding a request at its deadline: the request fails as retryable, and a new thread takes the next', async () => {
    let restarts = 0;
    const { job } = await onePool({ onRestart: () => restarts++ });
    await expect(job(20_000, Date.now())).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('decode thread stopped') });
    expect(restarts).toBe(1);
    expect((await job(20_000, Date.now() + 60_000)).items[0]).toBe(20_000);
  });

  it('starts its thread with the first metrics request, which the main thread decodes while the thread starts', async () => {
    sink.received.length = 0;
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_DECODE_THREADS: '1' });
    const running = async () => /^firetap_decode_threads_running (\d+)$/m.exec((await t.app.inject({ url: '/metrics' })).body)?.[1] ?? '0';
    // A service that only gets logs never pays for a thread.
    const logs = await t.app.inject({
      method: 'POST',
      url: '/firehose/logs',
      headers: firehoseHeaders('logs'),
      payload: firehoseBody([Buffer.from('a raw log line')], 'logs'),
    });
    expect(logs.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await running()).toBe('0');
    const res = await t.app.inject({
      method: 'POST',
      url: '/firehose/metrics',
      headers: firehoseHeaders('early'),
      payload: firehoseBody([lengthPrefixed(frame(5))], 'early'),
    });
    expect(res.statusCode).toBe(200);
    expect((await t.app.inject({ url: '/metrics' })).body).toContain('firetap_metric_requests_decoded_total{thread="main"} 1');
    for (let i = 0; i < 400 && (await running()) !== '1'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(await running()).toBe('1');
  });

  it('hands back a copy when the records outgrow the buffer they were given: the same bytes as the main thread writes', async () => {
    const { pool, request } = await onePool();
    const record = lengthPrefixed(frame(50));
    const { envelope } = request(Buffer.from(firehoseBody([record], 'spill')));
    const result = await pool.decode(envelope, Buffer.from(new SharedArrayBuffer(64)), {
      resourceAttributes: [],
      metricFormat: 'auto',
      attributesOn: 'datapoint',
      enrich: false,
    });
    expect(result.spilled?.length).toBe(result.length);
    const batch = new OtlpBatch();
    appendMetricStreamRecord(record, batch, { resourceAttributes: [] });
    expect(Buffer.from(result.spilled!).equals(Buffer.from(batch.take().payload))).toBe(true);
  });
});
