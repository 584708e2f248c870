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

  /**
   * `capacity`: bytes to start with, when the caller can tell (a request's size), instead of growing from
   * 128 bytes by doubling — each doubling a new buffer and a copy of everything written so far.
   */
  constructor(capacity = 0) {
    // Buffer.allocUnsafe, as protobufjs's own Node writer allocates: its string writes need a Buffer.
    if (capacity > this.writer.buf.length) this.writer.buf = Buffer.allocUnsafe(capacity);
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
   * Returns the encoded request and empties the batch, keeping its buffer for the next one. `last`: no
   * next one — the payload is the batch's own buffer, handed over instead of copied.
   */
  take(last = false): { payload: Uint8Array; items: number } {
    const w = this.writer;
    const out = { payload: last ? w.buf.subarray(0, w.pos) : w.finish(), items: this.items };
    if (last) w.buf = Buffer.alloc(0);
    w.pos = 0;
    if (w.states) w.states.length = 0;
    this.items = 0;
    return out;
  }
}
