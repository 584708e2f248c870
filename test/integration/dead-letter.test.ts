import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts';
import { eventBridgeEvent, firehoseBody, firehoseHeaders, logsMessage, logsRecord } from '../helpers/cloudwatch-fixtures.ts';
import { FakeS3 } from '../helpers/fake-s3.ts';
import { sendLikeFirehose } from '../helpers/firehose-client.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { sdkEnv } from '../helpers/aws-env.ts';

const ACCESS_KEY_ID = 'AKIDDEADLETTER0TEST';
const SECRET = 'dead-letter-secret-never-shown/K7MDENG';
const URL = 's3://dlq-bucket/firetap/dead/';

let sink: OtlpSink;
let s3: FakeS3;
const savedEnv = { ...process.env };
beforeAll(async () => {
  sink = await new OtlpSink().start();
  s3 = await new FakeS3().start();
  Object.assign(process.env, sdkEnv({ AWS_ENDPOINT_URL_S3: s3.url }, ACCESS_KEY_ID, 'eu-west-1', SECRET));
});
afterAll(async () => {
  process.env = savedEnv;
  await sink.stop();
  await s3.stop();
});
beforeEach(() => {
  sink.received.length = 0;
  sink.always({ status: 200 });
  s3.objects.clear();
  s3.calls.length = 0;
  s3.puts.length = 0;
  s3.putFailures = 0;
  s3.putDelayMs = 0;
  s3.putFailure = { status: 500, code: 'InternalError' };
});

const good = logsRecord(logsMessage({ events: [{ timestamp: 1, message: 'kept' }] }));
const truncated = good.subarray(0, good.length - 10);
const cut = good.subarray(0, 20);
const post = (t: TestApp, requestId: string, records: Uint8Array[] = [good, truncated, cut]) =>
  t.app.inject({ method: 'POST', url: '/firehose/logs', headers: firehoseHeaders(requestId), payload: firehoseBody(records, requestId) });
const objects = () =>
  [...s3.objects].map(([key, body]) => ({
    key,
    lines: body
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
  }));
const app = (env: Record<string, string> = {}) => buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_DEAD_LETTER_URL: URL, ...env });

describe('dead letters in S3 (FIRETAP_DEAD_LETTER_URL)', () => {
  it('keeps the bad records of a request as one JSONL object under <prefix>/YYYY/MM/DD/HH/, by a signed PutObject, before acknowledging', async () => {
    const t = await app();
    s3.putDelayMs = 300;
    const started = Date.now();
    const res = await post(t, 'partly bad/1');
    expect(res.statusCode).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290); // answered once S3 had stored the object
    expect(sink.lines('logs').map((l) => l.body)).toEqual(['kept']);

    expect(s3.calls.filter((c) => c.startsWith('PutObject'))).toHaveLength(1);
    const [object, ...others] = objects();
    expect(others).toEqual([]);
    expect(object!.lines).toEqual([
      {
        time: expect.any(String),
        requestId: 'partly bad/1',
        signal: 'logs',
        index: 1,
        reason: 'gzip',
        message: expect.any(String),
        data: truncated.toString('base64'),
      },
      {
        time: expect.any(String),
        requestId: 'partly bad/1',
        signal: 'logs',
        index: 2,
        reason: 'gzip',
        message: expect.any(String),
        data: cut.toString('base64'),
      },
    ]);
    const hour = object!.lines[0].time.slice(0, 13).replace(/[-T]/g, '/'); // 2026-12-04T20 → 2026/12/04/20
    expect(object!.key).toMatch(new RegExp(`^dlq-bucket/firetap/dead/${hour}/partly_bad_1-[0-9a-f]{12}\\.jsonl$`));
    expect(s3.puts[0]!.headers.authorization).toContain(`Credential=${ACCESS_KEY_ID}/`);
    expect(s3.puts[0]!.headers.authorization).toContain('/eu-west-1/s3/aws4_request');
    expect((await t.app.inject({ url: '/metrics' })).body).toContain('firetap_dead_letter_records_total{signal="logs"} 2');
  });

  it('answers 503 while S3 fails, naming the store and the S3 error, and 200 to the retry once S3 stores the object; the good records go out once', async () => {
    const t = await app();
    s3.putFailures = 1_000;
    const answers: Array<{ statusCode: number; body: string; headers: Record<string, unknown> }> = [];
    const sent = await sendLikeFirehose(
      async (requestId, body) => {
        const res = await t.app.inject({ method: 'POST', url: '/firehose/logs', headers: firehoseHeaders(requestId), payload: body });
        answers.push(res);
        s3.putFailures = 0; // S3 is back for the next attempt
        return res;
      },
      'dlq-retry',
      firehoseBody([good, truncated], 'dlq-retry'),
    );
    expect(sent.statuses).toEqual([503, 200]);
    expect(answers[0]!.headers['retry-after']).toBeDefined();
    expect(JSON.parse(answers[0]!.body).errorMessage).toBe(
      'could not keep 1 rejected record(s) in the dead-letter store s3://dlq-bucket/firetap/dead: S3 answered 500 InternalError; not acknowledged, so that it is sent again',
    );
    expect(objects().map((o) => o.lines.map((l) => l.index))).toEqual([[1]]);
    expect(sink.lines('logs').map((l) => l.body)).toEqual(['kept']);
  });

  it('answers 503 when S3 cannot be reached, and neither the answer nor the log shows a credential', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    process.env.AWS_ENDPOINT_URL_S3 = `http://127.0.0.1:${port}`;
    const t = await app().finally(() => (process.env.AWS_ENDPOINT_URL_S3 = s3.url));
    const res = await post(t, 'unreachable');
    expect(res.statusCode).toBe(503);
    expect(res.json().errorMessage).toContain('in the dead-letter store s3://dlq-bucket/firetap/dead: S3 could not be reached (ECONNREFUSED)');
    const shown = res.body + JSON.stringify(t.logs());
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain(ACCESS_KEY_ID);
  });

  it('names only the S3 error code when S3 refuses the signature, never the key or what was signed', async () => {
    const t = await app();
    s3.putFailures = 1_000;
    s3.putFailure = {
      status: 403,
      code: 'SignatureDoesNotMatch',
      extra: `<AWSAccessKeyId>${ACCESS_KEY_ID}</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 signed-text</StringToSign><SignatureProvided>f00d</SignatureProvided>`,
    };
    const res = await post(t, 'bad-signature');
    expect(res.statusCode).toBe(503);
    expect(res.json().errorMessage).toContain(': S3 answered 403 SignatureDoesNotMatch;');
    const shown = res.body + JSON.stringify(t.logs());
    for (const secret of [SECRET, ACCESS_KEY_ID, 'signed-text', 'f00d']) expect(shown).not.toContain(secret);
  });

  it('keeps a malformed EventBridge event in S3 and answers 400, or 503 (which EventBridge retries) while S3 fails', async () => {
    const t = await app({ FIRETAP_EVENTBRIDGE_API_KEYS: 'eb-key' });
    const post = (body: string) =>
      t.app.inject({ method: 'POST', url: '/eventbridge/events', headers: { 'content-type': 'application/json', 'x-api-key': 'eb-key' }, payload: body });
    const bad = JSON.stringify({ ...eventBridgeEvent(), region: undefined });
    s3.putFailures = 1_000;
    const failing = await post(bad);
    expect(failing.statusCode).toBe(503);
    expect(failing.json().error).toContain('could not keep the event in the dead-letter store s3://dlq-bucket/firetap/dead: S3 answered 500 InternalError');
    expect(s3.objects.size).toBe(0);

    s3.putFailures = 0;
    const kept = await post(bad);
    expect(kept.statusCode).toBe(400);
    expect(objects()).toEqual([
      {
        key: expect.stringMatching(/^dlq-bucket\/firetap\/dead\/\d{4}\/\d\d\/\d\d\/\d\d\/eventbridge-\d+-[0-9a-f]{12}\.jsonl$/),
        lines: [expect.objectContaining({ reason: 'format', data: Buffer.from(bad).toString('base64') })],
      },
    ]);
  });

  it('refuses to start with FIRETAP_DEAD_LETTER_DIR set too, or without a region', async () => {
    await expect(app({ FIRETAP_DEAD_LETTER_DIR: tmpdir() })).rejects.toThrow('FIRETAP_DEAD_LETTER_DIR and FIRETAP_DEAD_LETTER_URL are both set: set only one');
    delete process.env.AWS_REGION;
    await expect(app().finally(() => (process.env.AWS_REGION = 'eu-west-1'))).rejects.toThrow(
      'FIRETAP_DEAD_LETTER_URL: no AWS region for s3://dlq-bucket: set AWS_REGION (or AWS_DEFAULT_REGION)',
    );
  });
});

describe('dead letters in a directory (FIRETAP_DEAD_LETTER_DIR)', () => {
  it('answers 503 while the directory cannot be written (a file is in its place), and 200 to the retry once it can', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'firetap-dlq-'));
    const dir = join(parent, 'dead');
    writeFileSync(dir, 'a file where the directory should be');
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_DEAD_LETTER_DIR: dir });
    const body = firehoseBody([good, truncated], 'dir-retry');
    const send = () => t.app.inject({ method: 'POST', url: '/firehose/logs', headers: firehoseHeaders('dir-retry'), payload: body });

    const failing = await send();
    expect(failing.statusCode).toBe(503);
    expect(failing.json().errorMessage).toMatch(
      new RegExp(`^could not keep 1 rejected record\\(s\\) in the dead-letter store ${dir}/firetap-dead-letter.jsonl: E(EXIST|NOTDIR)`),
    );

    rmSync(dir);
    const retried = await send();
    expect(retried.statusCode).toBe(200);
    const lines = readFileSync(join(dir, 'firetap-dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ requestId: 'dir-retry', index: 1, reason: 'gzip', data: truncated.toString('base64') })]);
    expect(sink.lines('logs').map((l) => l.body)).toEqual(['kept']);
  });
});
