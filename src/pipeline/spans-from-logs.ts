import { exportError, logExportFailure } from '../export/exporter.ts';
import type { OtlpBatch } from '../otlp/batch.ts';
import type { DeadLetterEntry } from './dead-letter.ts';
import type { LedgerEntry } from './delivery-ledger.ts';
import type { Delivery, PipelineDeps } from './delivery.ts';
import type { ExportWindow } from './export-window.ts';
import { refusesTheData } from './refused-records.ts';

/**
 * Spans that arrive on the logs route (aws/spans in a Firehose stream of all log groups) go to the traces
 * exporter, a batch at a time between records, in the request's export window: the request is acknowledged
 * only once they went out too. Unlike metrics read from logs, the spans are the records' only content, so
 * a batch the backend refuses as bad data makes its records bad records (dead-lettered), as on the traces route.
 */
export class SpansFromLogs {
  readonly batch: OtlpBatch;
  private readonly deps: PipelineDeps;
  private readonly d: Delivery;
  private readonly ledger: LedgerEntry;
  private readonly window: ExportWindow;
  private readonly bad: DeadLetterEntry[];
  /** The records whose spans the batch being written holds. */
  private records: number[] = [];
  private itemsBefore = 0;

  constructor(batch: OtlpBatch, deps: PipelineDeps, d: Delivery, ledger: LedgerEntry, window: ExportWindow, bad: DeadLetterEntry[]) {
    this.batch = batch;
    this.deps = deps;
    this.d = d;
    this.ledger = ledger;
    this.window = window;
    this.bad = bad;
  }

  /** Notes whether record `index`, just decoded, added spans. */
  decoded(index: number): void {
    if (this.batch.items > this.itemsBefore) this.records.push(index);
    this.itemsBefore = this.batch.items;
  }

  /** Sends the spans written so far, unless an earlier attempt of the request delivered them. */
  async flush(): Promise<void> {
    const { batch, deps, records } = this;
    if (batch.items === 0) return;
    const { payload, items } = batch.take();
    this.records = [];
    this.itemsBefore = 0;
    const id = `spans-${records[0]}-${records.at(-1)}`;
    deps.metrics.items.inc({ signal: 'traces', stage: 'received' }, items);
    if (this.ledger.delivered.has(id)) {
      deps.metrics.itemsSkipped.inc({ signal: 'traces' }, items);
      return;
    }
    await this.window.start(this.send(payload, items, id, records));
  }

  private async send(payload: Uint8Array, items: number, id: string, records: readonly number[]): Promise<void> {
    const { d, window } = this;
    const result = await window.export(this.deps.exporters.traces, 'traces', payload, items, `${this.ledger.key}\u0000${id}`);
    if (result.status === 'success') {
      this.ledger.add(id);
      return;
    }
    logExportFailure(d.log, result, { requestId: d.requestId, signal: 'traces', items });
    if (result.status === 'permanent' && refusesTheData(result)) {
      for (const index of records) {
        if (this.bad.some((b) => b.index === index)) continue;
        this.deps.metrics.recordsRejected.inc({ signal: d.signal, reason: 'rejected_by_backend' });
        this.bad.push({
          requestId: d.requestId,
          signal: d.signal,
          index,
          reason: 'rejected_by_backend',
          message: result.message,
          data: d.envelope.data(index),
        });
      }
      return;
    }
    window.fail(exportError(result, 'spans read from the logs: '));
  }
}
