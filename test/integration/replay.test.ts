import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { replayCommand } from '../../src/replay/cli.ts';
import { replay, type ReplayOptions } from '../../src/replay/replay.ts';
import { FakeS3 } from '../helpers/fake-s3.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { lengthPrefixed, logsMessage, logsRecord, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';
import { ecsSpan, lambdaTrace, spanText, spansMessage, xraySegmentSpan } from '../helpers/span-fixtures.ts';
import { sdkEnv } from '../helpers/aws-env.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const id = { account: '123456789012', region: 'eu-west-1', streamName: 'backup' };

/** A failed-data backup object: one JSON line per record Firehose could not deliver, the record base64 in rawData. */
function failedDataObject(records: Buffer[]): Buffer {
  const lines = records.map((r, i) =>
    JSON.stringify({
      attemptsMade: 4,
      arrivalTimestamp: 1_795_000_000_000 + i,
      errorCode: 'HttpEndpoint.RequestTimeout',
      errorMessage: 'The request to the HTTP endpoint timed out.',
      attemptEndingTimestamp: 1_795_000_300_000,
      rawData: r.toString('base64'),
      subsequenceNumber: 0,
    }),
  );
  return Buffer.from(`${lines.join('\n')}\n`);
}

const logRecord = (n: number) =>
  logsRecord(
    logsMessage({
      logGroup: '/aws/lambda/replayed',
      events: Array.from({ length: n }, (_, i) => ({ id: String(i), timestamp: 1_795_000_000_000 + i, message: `line ${i}` })),
    }),
  );
/** What the three sample objects hold: 5 + 4 data points, 3 + 2 + 1 log records. */
function writeObjects(put: (name: string, body: Buffer) => void) {
  // A metric stream delivered to S3 by Firehose with GZIP compression: frames back to back, the object gzipped.
  put(
    'metrics/2026/11/22/08/stream-1-2026-11-22-08-00-00-a.gz',
    gzipSync(Buffer.concat([lengthPrefixed(metricStreamRequest(id, sampleDatapoints(5))), lengthPrefixed(metricStreamRequest(id, sampleDatapoints(4)))])),
  );
  // An HTTP endpoint's failed-data backup of two CloudWatch Logs records and one metric-stream record.
  put('failed/http-endpoint-failed/2026/11/22/08/stream-1-2026-11-22-08-05-00-b', failedDataObject([logRecord(3), logRecord(2)]));
  // An all-data backup of a logs stream: each record gzipped by CloudWatch Logs, back to back.
  put('logs/2026/11/22/08/stream-1-2026-11-22-08-10-00-c', Buffer.concat([logRecord(1)]));
}

let sink: OtlpSink;
let s3: FakeS3;
beforeAll(async () => {
  sink = await new OtlpSink().start();
  s3 = await new FakeS3().start();
  Object.assign(process.env, sdkEnv({ AWS_ENDPOINT_URL_S3: s3.url }, 'AKIDREPLAY'));
  writeObjects((name, body) => s3.put('firehose-backup', name, body));
});
afterAll(async () => {
  await sink.stop();
  await s3.stop();
});
beforeEach(() => {
  sink.received.length = 0;
  sink.always({ status: 200 });
});

function localDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'firetap-replay-'));
  writeObjects((name, body) => {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  });
  return dir;
}

const run = (location: string, extra: Partial<ReplayOptions> = {}, env: Record<string, string> = {}) =>
  replay(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_LOG_LEVEL: 'silent', FIRETAP_REQUEST_TIMEOUT_MS: '1000', ...env }), {
    location,
    dryRun: false,
    statePath: join(mkdtempSync(join(tmpdir(), 'firetap-replay-state-')), 'state.jsonl'),
    fresh: false,
    progress: new PassThrough(),
    attempts: 2,
    ...extra,
  });

describe('firetap replay', () => {
  it('sends every record of local backup objects (failed-data, all-data, gzipped) through the pipeline to the backend', async () => {
    const summary = await run(localDir());
    expect(summary).toMatchObject({ objects: 3, replayed: 3, skipped: 0, records: 4, items: 15, badRecords: 0 });
    expect(sink.lines('metrics')).toHaveLength(9);
    expect(sink.lines('metrics')[0]!.attributes).toHaveProperty('InstanceId');
    expect(
      sink
        .lines('logs')
        .map((l) => l.body)
        .sort(),
    ).toEqual(['line 0', 'line 0', 'line 0', 'line 1', 'line 1', 'line 2']);
    expect(sink.lines('logs')[0]!.resource['aws.log.group.names']).toEqual(['/aws/lambda/replayed']);
  });

  it('replays span records: aws/spans subscription records through the logs route, raw span JSON through the traces route, all to /v1/traces', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'firetap-replay-spans-'));
    writeFileSync(join(dir, 'a-failed'), failedDataObject([gzipSync(JSON.stringify(spansMessage(lambdaTrace())))]));
    // A stream of span JSON delivered to S3 as it came: objects back to back, no delimiter.
    writeFileSync(join(dir, 'b-all'), Buffer.from(spanText(ecsSpan()) + spanText(xraySegmentSpan())));
    const summary = await run(dir);
    expect(summary).toMatchObject({ objects: 2, replayed: 2, records: 3, items: 4, badRecords: 0 });
    expect(sink.received.map((r) => r.signal)).toEqual(['traces', 'traces']);
    expect(
      sink
        .lines('traces')
        .map((s) => s.name)
        .sort(),
    ).toEqual(['DynamoDB.PutItem', 'GET /cart/{id}', 'checkout', 'legacy-api']);
  });

  it('reads s3://bucket/prefix through the SDK across list pages and throttled reads, the same as local files', async () => {
    s3.slowDowns = 1;
    const summary = await run('s3://firehose-backup/');
    expect(summary).toMatchObject({ objects: 3, replayed: 3, records: 4, items: 15 });
    expect(s3.calls.filter((c) => c === 'ListObjectsV2').length).toBeGreaterThanOrEqual(2);
    expect(s3.calls.filter((c) => c.startsWith('GetObject')).length).toBe(4);
    const only = await run('s3://firehose-backup/logs/');
    expect(only).toMatchObject({ objects: 1, items: 1 });
  });

  it('resumes: objects already replayed are skipped on the next run, unless told --fresh', async () => {
    const dir = localDir();
    const statePath = join(dir, '.state.jsonl');
    await run(dir, { statePath });
    sink.received.length = 0;
    expect(await run(dir, { statePath })).toMatchObject({ replayed: 0, skipped: 3, items: 0 });
    expect(sink.received).toHaveLength(0);
    expect(await run(dir, { statePath, fresh: true })).toMatchObject({ replayed: 3, items: 15 });
  });

  it('stops at the first object the backend cannot take, and the next run carries on from it', async () => {
    const dir = localDir();
    const statePath = join(dir, '.state.jsonl');
    sink.always({ status: 503, headers: { 'retry-after': '1' } });
    const stopped = await run(dir, { statePath });
    sink.always({ status: 200 });
    expect(stopped.stoppedAt).toMatchObject({ object: expect.stringContaining('failed/') });
    expect(stopped.replayed).toBe(0);
    const resumed = await run(dir, { statePath });
    expect(resumed.replayed).toBe(3);
    expect(resumed.stoppedAt).toBeUndefined();
    expect(readFileSync(statePath, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('replays several objects at once with the same result', async () => {
    const summary = await run(localDir(), { concurrency: 3 });
    expect(summary).toMatchObject({ objects: 3, replayed: 3, records: 4, items: 15 });
    expect(sink.lines('metrics')).toHaveLength(9);
    expect(sink.lines('logs')).toHaveLength(6);
  });

  it('counts without sending in a dry run', async () => {
    const summary = await run(localDir(), { dryRun: true });
    expect(summary).toMatchObject({ replayed: 3, items: 15 });
    expect(sink.received).toHaveLength(0);
  });

  it('names an object that is not a backup and replays the others', async () => {
    const dir = localDir();
    writeFileSync(join(dir, 'truncated.bin'), lengthPrefixed(metricStreamRequest(id, sampleDatapoints(2))).subarray(0, 40));
    const summary = await run(dir);
    expect(summary).toMatchObject({ objects: 4, replayed: 3, items: 15 });
    expect(summary.refused).toEqual([{ object: join(dir, 'truncated.bin'), error: expect.stringContaining('truncated object?') }]);
  });

  it('refuses bad arguments with the usage, exit code 2', async () => {
    const stderr = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    let text = '';
    (stderr as unknown as PassThrough).on('data', (c: Buffer) => (text += c));
    expect(await replayCommand(['--signal', 'spans', 'x'], {}, new PassThrough(), stderr)).toBe(2);
    expect(text).toContain('--signal must be one of metrics, logs, traces');
    expect(text).toContain('usage: firetap replay');
  });

  it('runs as `firetap replay` from the service entry point and prints a JSON summary', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['src/main.ts', 'replay', '--dry-run', localDir()], {
      cwd: ROOT,
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url },
    });
    expect(JSON.parse(stdout)).toMatchObject({ objects: 3, replayed: 3, items: 15, dryRun: true });
    expect(stderr).toContain('3 of 3 object(s) replayed');
  });
});
