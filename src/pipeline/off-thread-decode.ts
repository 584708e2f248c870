import { RecordError } from '../decode/record-error.ts';
import type { BufferPool } from '../memory/buffer-pool.ts';
import type { OtlpBatch } from '../otlp/batch.ts';
import { copyRange } from '../otlp/wire.ts';
import type { DecodePool, DecodeResult } from './decode-pool.ts';
import type { LocatedRecords } from './located-records.ts';
import type { RecordContext } from './record-codecs.ts';

/**
 * Metrics requests up to this size may be decoded on a decode thread, into a buffer 1.5× the body held until
 * the request is done; larger ones are decoded on the main thread in time slices, a batch at a time.
 */
export const MAX_OFF_THREAD_BODY_BYTES = 16 * 1024 * 1024;

/** A request is decoded on the main thread when every decode thread already has this many in hand (see docs/performance.md). */
const MAX_QUEUED_PER_THREAD = 4;

/**
 * The decode threads that should take this metrics request, or none: none configured, too large, or all busy.
 * The first request they could take starts them; it is decoded on the main thread while they start.
 */
export function decodeThreadsFor(decoders: DecodePool | undefined, envelope: LocatedRecords): DecodePool | undefined {
  if (!decoders || envelope.byteLength > MAX_OFF_THREAD_BODY_BYTES) return undefined;
  decoders.start();
  return decoders.busy(MAX_QUEUED_PER_THREAD) ? undefined : decoders;
}

/** A decode thread's OTLP of every record, one after the other, and the records it found bad, in order. */
export class ThreadOutput {
  readonly result: DecodeResult;
  /** The records' OTLP, until a batch adopts it or it is released. */
  out: Buffer | undefined;
  private nextError = 0;

  constructor(result: DecodeResult, out: Buffer) {
    this.result = result;
    this.out = out;
  }

  /** Every record decoded and all of them one batch: the output is the batch, as it stands. */
  isOneBatch(maxBatchBytes: number): boolean {
    return this.result.errors.length === 0 && this.result.length <= maxBatchBytes;
  }

  /** Hands the whole output to `batch`, which releases it with its own buffer. */
  adoptInto(batch: OtlpBatch): void {
    const { result } = this;
    batch.adopt(
      this.out!,
      result.length,
      result.items.reduce((a, b) => a + b, 0),
    );
    this.out = undefined;
  }

  /** Copies record `i`'s OTLP into `batch`, or throws the RecordError the thread found in it. */
  copyRecord(i: number, batch: OtlpBatch): void {
    const { result } = this;
    // The thread lists bad records in order: the next one is the only one that can be this record.
    const error = result.errors[this.nextError];
    if (error?.index === i) {
      this.nextError++;
      throw new RecordError(error.reason, error.message);
    }
    copyRange(batch.writer, this.out!, i === 0 ? 0 : result.ends[i - 1]!, result.ends[i]!);
    batch.items += result.items[i]!;
  }

  /** Gives the output back to the pool, unless a batch adopted it. */
  release(buffers: BufferPool): void {
    if (this.out) buffers.release(this.out);
    this.out = undefined;
  }
}

/**
 * Has a decode thread rewrite every record of a metrics request into shared memory from the pool, and counts
 * its enrichment hits and misses on the request's stats.
 */
export async function decodeOffThread(
  pool: DecodePool,
  buffers: BufferPool,
  envelope: LocatedRecords,
  ctx: RecordContext,
  deadline: number,
): Promise<ThreadOutput> {
  const given = buffers.acquire(envelope.byteLength + (envelope.byteLength >> 1), true);
  let result: DecodeResult;
  try {
    result = await pool.decode(
      envelope,
      given,
      { resourceAttributes: ctx.resourceAttributes, metricFormat: ctx.metricFormat, attributesOn: ctx.attributesOn, enrich: ctx.enrichment !== undefined },
      deadline,
    );
  } catch (err) {
    buffers.release(given);
    throw err;
  }
  for (const [namespace, n] of result.hits) ctx.stats.add(namespace, true, n);
  for (const [namespace, n] of result.misses) ctx.stats.add(namespace, false, n);
  if (!result.spilled) return new ThreadOutput(result, given);
  buffers.release(given);
  return new ThreadOutput(result, Buffer.from(result.spilled.buffer, result.spilled.byteOffset, result.spilled.byteLength));
}
