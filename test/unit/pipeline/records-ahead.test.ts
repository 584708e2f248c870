import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RecordError } from '../../../src/decode/record-error.ts';
import { scanEnvelope } from '../../../src/firehose/envelope.ts';
import { MemoryBudget, MemoryShare } from '../../../src/memory/memory-budget.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { RECORD_CODECS } from '../../../src/pipeline/record-codecs.ts';
import { RecordsAhead } from '../../../src/pipeline/records-ahead.ts';
import { firehoseBody, logsMessage, logsRecord } from '../../helpers/cloudwatch-fixtures.ts';
import { recordContext } from '../../helpers/record-context.ts';

const events = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({ timestamp: 1_795_000_000_000 + i, message: `${tag} line ${i} ${'x'.repeat(i % 50)}\n` }));

/** Four records: two subscription messages, a raw line gzipped, and another message. */
const RECORDS = [
  logsRecord(logsMessage({ events: events(3000, 'a') })),
  logsRecord(logsMessage({ logGroup: '/aws/lambda/cart', events: events(5, 'b') })),
  gzipSync('a raw line that is not a subscription message\n'),
  logsRecord(logsMessage({ events: events(120, 'd') })),
];

const envelopeOf = (records: readonly Uint8Array[]) => scanEnvelope(Buffer.from(firehoseBody(records, 'req-1', 1_795_000_060_000)), 10_000);

function shares(limit = 64 * 1024 * 1024) {
  const budget = new MemoryBudget(limit);
  const holder = { held: 0 };
  return { budget, pair: [new MemoryShare(budget, holder), new MemoryShare(budget, holder)] as const };
}

describe('records gunzipped ahead', () => {
  it('writes every record in order exactly as the logs codec does one record at a time', async () => {
    const envelope = envelopeOf(RECORDS);
    const one = new OtlpBatch();
    for (let i = 0; i < envelope.count; i++) await RECORD_CODECS.logs(envelope.data(i), one, recordContext());
    const { pair } = shares();
    const ahead = new RecordsAhead('logs', envelope, recordContext(), pair);
    const batch = new OtlpBatch();
    for (let i = 0; i < envelope.count; i++) expect(await ahead.decode(i, batch)).toBeUndefined();
    expect(batch.items).toBe(one.items);
    expect(Buffer.from(batch.take().payload)).toEqual(Buffer.from(one.take().payload));
  });

  it('has the next record inflating, on its own share of the budget, while the current one is decoded', async () => {
    const envelope = envelopeOf(RECORDS);
    const { pair } = shares();
    const ahead = new RecordsAhead('logs', envelope, recordContext(), pair);
    await ahead.decode(0, new OtlpBatch());
    expect(pair[0].bytes).toBeGreaterThan(0);
    expect(pair[1].bytes).toBeGreaterThan(0);
    await ahead.decode(1, new OtlpBatch());
    // Record 2 went to the first share, which gave record 0's bytes back first.
    expect(pair[0].bytes).toBeLessThan(gunzipSync(RECORDS[0]!).length);
  });

  it("throws a bad record's error at its own turn and goes on with the records after it", async () => {
    const corrupt = Buffer.from(RECORDS[1]!);
    corrupt.fill(0x55, 12, 30);
    const envelope = envelopeOf([RECORDS[0]!, corrupt, RECORDS[3]!]);
    const { pair } = shares();
    const ahead = new RecordsAhead('logs', envelope, recordContext(), pair);
    const batch = new OtlpBatch();
    await ahead.decode(0, batch);
    expect(batch.items).toBe(3000);
    await expect(ahead.decode(1, batch)).rejects.toThrow(RecordError);
    await ahead.decode(2, batch);
    expect(batch.items).toBe(3120);
  });

  it('gives the whole budget back when a request stops early: settle() waits for the record inflating ahead', async () => {
    // A small record, then a large one still inflating when the request stops.
    const envelope = envelopeOf([RECORDS[1]!, RECORDS[0]!]);
    const { budget, pair } = shares();
    const ahead = new RecordsAhead('logs', envelope, recordContext(), pair);
    await ahead.decode(0, new OtlpBatch());
    await ahead.settle();
    for (const share of pair) share.release();
    await new Promise((r) => setTimeout(r, 20));
    expect(budget.inUse).toBe(0);
  });
});
