import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { appendCloudWatchLogs, parseCloudWatchLogsRecord, type CloudWatchLogsContext } from '../../../src/decode/cloudwatch-logs.ts';
import { RecordError } from '../../../src/decode/record-error.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { debugLines } from '../../../src/export/debug.ts';
import { encodedAttribute } from '../../../src/otlp/wire.ts';
import { CONTROL_MESSAGE, logsMessage, logsRecord } from '../../helpers/cloudwatch-fixtures.ts';

const MiB = 1024 * 1024;
const ctx: CloudWatchLogsContext = {
  resourceAttributes: [],
  region: 'eu-west-1',
  observedAtMs: 1_795_000_999_000,
  maxBatchBytes: 4 * MiB,
  maxRecordBytes: 32 * MiB,
};

async function decode(record: Buffer, c = ctx) {
  const batch = new OtlpBatch();
  const payloads: Uint8Array[] = [];
  let next = appendCloudWatchLogs(await parseCloudWatchLogsRecord(record, c.maxRecordBytes), batch, c);
  while (next) {
    payloads.push(batch.take().payload);
    next = next();
  }
  payloads.push(batch.take().payload);
  return { payloads, lines: payloads.flatMap((payload) => [...debugLines({ signal: 'logs', payload })]) };
}

describe('CloudWatch Logs records', () => {
  it('turns each log event into a log record with the semantic-convention resource attributes', async () => {
    const { lines } = await decode(
      logsRecord(
        logsMessage({
          events: [
            { id: 'e1', timestamp: 1_795_000_000_123, message: 'START RequestId: 1\n' },
            { id: 'e2', timestamp: 1_795_000_000_124, message: 'END' },
          ],
        }),
      ),
    );
    expect(lines).toEqual([
      {
        signal: 'logs',
        resource: {
          'cloud.provider': 'aws',
          'cloud.account.id': '123456789012',
          'cloud.region': 'eu-west-1',
          'aws.log.group.names': ['/aws/lambda/checkout'],
          'aws.log.stream.names': ['2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef'],
        },
        scope: 'firetap',
        timeUnixNano: '1795000000123000000',
        observedTimeUnixNano: '1795000999000000000',
        body: 'START RequestId: 1\n',
        attributes: { 'log.record.uid': 'e1' },
      },
      expect.objectContaining({ body: 'END', timeUnixNano: '1795000000124000000', attributes: { 'log.record.uid': 'e2' } }),
    ]);
  });

  it('reads records Firehose already decompressed (plain JSON) the same way', async () => {
    const message = logsMessage({ events: [{ timestamp: 1, message: 'x' }] });
    expect((await decode(Buffer.from(JSON.stringify(message)))).lines).toEqual((await decode(logsRecord(message))).lines);
  });

  it('gunzips exactly once: a record gzipped twice is refused, not unwrapped again', async () => {
    const twice = gzipSync(logsRecord(logsMessage({ events: [{ timestamp: 1, message: 'x' }] })));
    await expect(decode(twice)).rejects.toThrow(RecordError);
    await expect(decode(twice)).rejects.toThrow('record is gzip inside gzip');
  });

  it('emits nothing for a CONTROL_MESSAGE', async () => {
    expect((await decode(logsRecord(CONTROL_MESSAGE))).lines).toEqual([]);
  });

  it('keeps a 1 MB message and unicode exactly', async () => {
    const big = `${'é'.repeat(500_000)} 🚀 終わり`;
    const { lines } = await decode(logsRecord(logsMessage({ events: [{ timestamp: 1, message: big }] })));
    expect(lines[0]!.body).toBe(big);
  });

  it('takes account and region from extracted system fields, grouping events by them', async () => {
    const message = logsMessage({
      owner: '123',
      events: [
        { timestamp: 1, message: 'a', extractedFields: { '@aws.account': '111111111111', '@aws.region': 'us-east-1' } },
        { timestamp: 2, message: 'b', extractedFields: { '@aws.account': '222222222222', '@aws.region': 'us-west-2' } },
        { timestamp: 3, message: 'c' },
      ],
    });
    const { lines } = await decode(logsRecord(message), { ...ctx, region: undefined });
    expect(lines.map((l) => [l.body, l.resource['cloud.account.id'], l.resource['cloud.region']])).toEqual([
      ['a', '111111111111', 'us-east-1'],
      ['b', '222222222222', 'us-west-2'],
      ['c', '123', undefined],
    ]);
  });

  it('adds extra resource attributes but never over the ones it derives from the data', async () => {
    const c = { ...ctx, resourceAttributes: [encodedAttribute('cloud.account.id', 'WRONG'), encodedAttribute('env', 'prod')] };
    const { lines } = await decode(logsRecord(logsMessage({ events: [{ timestamp: 1, message: 'x' }] })), c);
    expect(lines[0]!.resource).toMatchObject({ 'cloud.account.id': '123456789012', env: 'prod' });
  });

  it('splits a record larger than the batch limit between two batches without losing an event', async () => {
    const events = Array.from({ length: 50 }, (_, i) => ({ timestamp: i, message: `event ${i} `.padEnd(1000, '.') }));
    const { payloads, lines } = await decode(logsRecord(logsMessage({ events })), { ...ctx, maxBatchBytes: 10_000 });
    expect(payloads.length).toBeGreaterThan(4);
    expect(lines.map((l) => l.body.split(' ')[1])).toEqual(events.map((_, i) => String(i)));
  });

  it('reads the older one-message-per-line records', async () => {
    const a = logsMessage({ logStream: 's1', events: [{ timestamp: 1, message: 'a' }] });
    const b = logsMessage({ logStream: 's2', events: [{ timestamp: 2, message: 'b' }] });
    const { lines } = await decode(Buffer.from(`${JSON.stringify(a)}\n${JSON.stringify(b)}\n`));
    expect(lines.map((l) => [l.body, l.resource['aws.log.stream.names'][0]])).toEqual([
      ['a', 's1'],
      ['b', 's2'],
    ]);
  });

  it.each([
    ['not JSON', Buffer.from('hello world'), 'json', 'record is not JSON'],
    ['broken gzip', Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(20, 7)]), 'gzip', 'record is not valid gzip'],
    ['a JSON array', Buffer.from('[1]'), 'format', 'expected a JSON object'],
    ['JSON without messageType', Buffer.from('{"TICKER_SYMBOL":"NGC"}'), 'format', 'no messageType'],
    [
      'an event without message',
      Buffer.from(JSON.stringify({ ...logsMessage({ events: [] }), logEvents: [{ id: '1', timestamp: 1 }] })),
      'format',
      'logEvents[0].message is not a string',
    ],
    [
      'an event with a text timestamp',
      Buffer.from(JSON.stringify({ ...logsMessage({ events: [] }), logEvents: [{ id: '1', timestamp: 'now', message: '' }] })),
      'format',
      'logEvents[0].timestamp',
    ],
    ['no logGroup', Buffer.from(JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '1', logStream: 's', logEvents: [] })), 'format', 'no string "logGroup"'],
  ])('refuses %s with a reason', async (_name, record, reason, message) => {
    let error: RecordError | undefined;
    try {
      await parseCloudWatchLogsRecord(record, ctx.maxRecordBytes);
    } catch (err) {
      error = err as RecordError;
    }
    expect(error).toBeInstanceOf(RecordError);
    expect(error!.reason).toBe(reason);
    expect(error!.message).toContain(message);
  });

  it('stops inflating a gzip bomb at the record limit', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * MiB)); // ~200 KB that would inflate to 200 MiB
    expect(bomb.length).toBeLessThan(MiB);
    const before = process.memoryUsage().arrayBuffers;
    await expect(parseCloudWatchLogsRecord(bomb, 8 * MiB)).rejects.toThrow('record inflates to more than 8388608 bytes');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * MiB);
  });

  it("keeps memory bounded through a stream of corrupt gzip records (Node's sync zlib leaked on each; found by fuzzing)", async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const corrupt = logsRecord(logsMessage({ events: [{ timestamp: 1, message: 'x'.repeat(200) }] })).subarray(0, 30);
    const run = async () => {
      for (let i = 0; i < 10_000; i++) await parseCloudWatchLogsRecord(corrupt, MiB).catch(() => {});
    };
    await run();
    gc();
    const before = process.memoryUsage().heapUsed;
    await run();
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(5 * MiB);
  });
});
