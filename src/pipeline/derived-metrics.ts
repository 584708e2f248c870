import { exportError, logExportFailure } from '../export/exporter.ts';
import type { OtlpBatch } from '../otlp/batch.ts';
import type { LedgerEntry } from './delivery-ledger.ts';
import type { Delivery, PipelineDeps } from './delivery.ts';
import type { ExportWindow } from './export-window.ts';

/**
 * Metrics read out of log events (Lambda REPORT lines, EMF) go to the metrics exporter, a batch at a time
 * between records, in the request's export window. Their delivery counts like the logs': the request is
 * acknowledged only once both went out. A backend that refuses them as bad data loses nothing the logs do
 * not still hold: that is logged and counted, and the logs are acknowledged.
 */
export class DerivedMetrics {
  readonly batch: OtlpBatch;
  private readonly deps: PipelineDeps;
  private readonly d: Delivery;
  private readonly ledger: LedgerEntry;
  private readonly window: ExportWindow;
  /** The first record of the batch being written. */
  private first = 0;

  constructor(batch: OtlpBatch, deps: PipelineDeps, d: Delivery, ledger: LedgerEntry, window: ExportWindow) {
    this.batch = batch;
    this.deps = deps;
    this.d = d;
    this.ledger = ledger;
    this.window = window;
  }

  /** Sends what the records up to `last` added, unless an earlier attempt of the request delivered it. */
  async flush(last: number): Promise<void> {
    const { batch, deps } = this;
    if (batch.items === 0) return;
    const { payload, items } = batch.take();
    const id = `derived-${this.first}-${last}`;
    this.first = last + 1;
    deps.metrics.items.inc({ signal: 'metrics', stage: 'received' }, items);
    if (this.ledger.delivered.has(id)) {
      deps.metrics.itemsSkipped.inc({ signal: 'metrics' }, items);
      return;
    }
    await this.window.start(this.send(payload, items, id));
  }

  private async send(payload: Uint8Array, items: number, id: string): Promise<void> {
    const { d, window } = this;
    const result = await window.export(this.deps.exporters.metrics, 'metrics', payload, items, `${this.ledger.key}\u0000${id}`);
    if (result.status === 'success') {
      this.ledger.add(id);
    } else if (result.status === 'retryable') {
      logExportFailure(d.log, result, { requestId: d.requestId, signal: 'metrics', items });
      window.fail(exportError(result, 'metrics read from the logs: '));
    } else {
      d.log.warn(
        { requestId: d.requestId, items, backendMessage: result.message, backend: result.detail },
        'the metrics backend refused the metrics read from log events; the log events themselves were delivered',
      );
    }
  }
}
