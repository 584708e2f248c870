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

  /** Returns the encoded request and empties the batch, keeping its buffer for the next one. */
  take(): { payload: Uint8Array; items: number } {
    const out = { payload: this.writer.finish(), items: this.items };
    this.writer.pos = 0;
    if (this.writer.states) this.writer.states.length = 0;
    this.items = 0;
    return out;
  }
}
