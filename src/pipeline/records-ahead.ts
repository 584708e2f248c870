import type { MemoryShare } from '../memory/memory-budget.ts';
import type { Continuation } from '../otlp/log-records.ts';
import type { OtlpBatch } from '../otlp/batch.ts';
import type { LocatedRecords } from './located-records.ts';
import { FROM_BYTES, type LogRecordContext, recordBytes } from './record-codecs.ts';

/**
 * Decodes a logs or traces request's records in order while the next record is gunzipped in libuv's pool: the
 * gunzip of record i + 1 runs while record i is parsed and written on the main thread, where each record's gunzip
 * used to wait for the previous record's decode. Each of the two records in hand holds its own share of the
 * request's memory budget (they alternate), so the budget still bounds what is inflated.
 */
export class RecordsAhead {
  private readonly envelope: LocatedRecords;
  private readonly ctx: LogRecordContext;
  private readonly fromBytes: (typeof FROM_BYTES)[keyof typeof FROM_BYTES];
  private readonly shares: readonly [MemoryShare | undefined, MemoryShare | undefined];
  private pending: { index: number; bytes: Promise<Buffer | undefined> } | undefined;

  constructor(signal: 'logs' | 'traces', envelope: LocatedRecords, ctx: LogRecordContext, shares: readonly [MemoryShare | undefined, MemoryShare | undefined]) {
    this.envelope = envelope;
    this.ctx = ctx;
    this.fromBytes = FROM_BYTES[signal];
    this.shares = shares;
  }

  /** Record `index` into the batch (the codec's contract: RecordError for a bad record, a continuation when it filled the batch). */
  async decode(index: number, batch: OtlpBatch): Promise<Continuation | undefined> {
    const bytes = this.pending?.index === index ? this.pending.bytes : this.start(index);
    this.pending = index + 1 < this.envelope.count ? { index: index + 1, bytes: this.start(index + 1) } : undefined;
    const plain = await bytes;
    return plain === undefined ? undefined : this.fromBytes(plain, batch, this.ctx);
  }

  /** Waits for a record gunzipped ahead and not decoded (the request stopped early), so that it no longer takes from the budget. */
  async settle(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    await pending?.bytes.catch(() => undefined);
  }

  private start(index: number): Promise<Buffer | undefined> {
    const bytes = recordBytes(this.envelope.data(index), this.ctx, this.shares[index % 2]);
    // A record gunzipped ahead may fail before its turn: its error is thrown then, not reported as unhandled.
    bytes.catch(() => undefined);
    return bytes;
  }
}
