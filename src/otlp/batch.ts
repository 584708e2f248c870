import type { BufferPool } from '../memory/buffer-pool.ts';
import { Writer } from './wire.ts';

export interface BatchMark {
  readonly pos: number;
  readonly items: number;
  readonly depth: number;
}

/**
 * One OTLP export request being written: the top-level ExportMetricsServiceRequest or
 * ExportLogsServiceRequest is a bare sequence of `resource_* = 1` fields, so entries are simply
 * appended. A decoder marks the batch before a record and rolls back to the mark if the record
 * turns out to be bad, so a bad record leaves nothing behind.
 */
export class OtlpBatch {
  readonly writer: Writer = Writer.create();
  /** Datapoints or log records written so far. */
  items = 0;

  private readonly capacity: number;
  private readonly pool: BufferPool | undefined;

  /**
   * `capacity`: bytes to start with, when the caller can tell (a request's size), instead of growing from
   * 128 bytes by doubling — each doubling a new buffer and a copy of everything written so far. With a
   * `pool`, that buffer comes from it, and each take() hands the buffer over and starts on another one.
   */
  constructor(capacity = 0, pool?: BufferPool) {
    this.capacity = capacity;
    this.pool = pool;
    this.startBuffer();
  }

  private startBuffer(): void {
    // A Buffer, as protobufjs's own Node writer allocates: its string writes need one.
    this.setBuffer(this.pool ? this.pool.acquire(this.capacity) : Buffer.allocUnsafe(this.capacity));
  }

  /** The writer's buffer replaced, with the DataView protobufjs caches over it for packed writes. */
  private setBuffer(buf: Buffer): void {
    const w = this.writer as Writer & { view: DataView | null };
    w.buf = buf;
    w.view = null;
    w.pos = 0;
  }

  get bytes(): number {
    return this.writer.pos;
  }

  mark(): BatchMark {
    return { pos: this.writer.pos, items: this.items, depth: this.writer.states?.length ?? 0 };
  }

  rollback(mark: BatchMark): void {
    this.writer.pos = mark.pos;
    if (this.writer.states) this.writer.states.length = mark.depth;
    this.items = mark.items;
  }

  /**
   * Returns the encoded request and empties the batch. Without a pool, the batch keeps its buffer for the
   * next one and the payload is a copy, unless `last` (no next one): then the payload is the batch's own
   * buffer, handed over instead of copied. With a pool, the payload is always the batch's buffer (to be
   * released to the pool once exported), and the next one, if any, starts on another from the pool.
   */
  take(last = false): { payload: Uint8Array; items: number } {
    const w = this.writer;
    const handOver = last || this.pool !== undefined;
    const out = { payload: handOver ? w.buf.subarray(0, w.pos) : w.finish(), items: this.items };
    if (last) this.setBuffer(Buffer.alloc(0));
    else if (handOver) this.startBuffer();
    w.pos = 0;
    if (w.states) w.states.length = 0;
    this.items = 0;
    return out;
  }

  /**
   * Continues in `buffer`, whose first `length` bytes are already `items` data points or log records
   * written elsewhere (a decode thread); the buffer it had goes back to the pool. take() hands `buffer`
   * over as it would its own.
   */
  adopt(buffer: Buffer, length: number, items: number): void {
    if (this.pool) this.pool.release(this.writer.buf);
    this.setBuffer(buffer);
    this.writer.pos = length;
    this.items = items;
  }

  /** Empties the batch, keeping its buffer. */
  clear(): void {
    this.rollback({ pos: 0, items: 0, depth: 0 });
  }

  /** Gives the batch's buffer back to the pool: nothing may be written after. */
  dispose(): void {
    if (this.pool) this.pool.release(this.writer.buf);
    this.setBuffer(Buffer.alloc(0));
  }
}
