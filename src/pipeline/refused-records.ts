import { RecordError } from '../decode/record-error.ts';
import { FiretapError } from '../errors.ts';
import { exportError, type ExportResult } from '../export/exporter.ts';
import { OtlpBatch } from '../otlp/batch.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { DeadLetterEntry } from './dead-letter.ts';
import type { Delivery } from './delivery.ts';
import type { ExportWindow } from './export-window.ts';
import type { RECORD_CODECS, RecordContext } from './record-codecs.ts';

/** The records of a batch the backend refused as bad data. */
export interface RefusedRange {
  readonly first: number;
  readonly last: number;
  readonly message: string;
}

/** 400 and 413 from the backend say "this data", not "this backend". */
export const refusesTheData = (result: ExportResult & { status: 'permanent' }): boolean => result.httpStatus === 400 || result.httpStatus === 413;

/** What re-sending a refused batch's records needs of its request. */
export interface Refusals {
  readonly d: Delivery;
  readonly codec: (typeof RECORD_CODECS)[keyof typeof RECORD_CODECS];
  readonly ctx: RecordContext;
  readonly metrics: Metrics;
  readonly window: ExportWindow;
  /** Exports one payload of the request's signal and counts it for the request. */
  readonly exportBatch: (payload: Uint8Array, items: number) => Promise<ExportResult>;
  /** The request's bad records so far; those the backend refuses alone join them. */
  readonly bad: DeadLetterEntry[];
}

/**
 * Re-sends the records of a refused batch one record at a time. Those the backend refuses alone are set
 * aside as bad records (dead-lettered), so one record the backend will not take never blocks the others.
 * When it refuses every one of several records, the data is not the problem (a backend misconfiguration,
 * say): the request fails instead, and Firehose keeps it.
 */
export async function isolate(range: RefusedRange, r: Refusals): Promise<void> {
  const { d, window, bad } = r;
  const rejectedHere: DeadLetterEntry[] = [];
  const alone: RecordContext = { ...r.ctx, derived: undefined, meterRecords: undefined, spans: undefined };
  for (let k = range.first; k <= range.last && window.failure === undefined; k++) {
    const data = d.envelope.data(k);
    if (bad.some((b) => b.index === k)) continue;
    const single = new OtlpBatch();
    let refusedMessage: string | undefined;
    try {
      for (let next = await r.codec(data, single, alone); ; next = next()) {
        const { payload, items } = single.take();
        if (items > 0 && refusedMessage === undefined) {
          const result = await r.exportBatch(payload, items);
          if (result.status === 'permanent') {
            if (refusesTheData(result)) refusedMessage = result.message;
            else window.fail(exportError(result));
          }
        }
        if (!next) break;
      }
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
    }
    if (refusedMessage !== undefined) {
      rejectedHere.push({ requestId: d.requestId, signal: d.signal, index: k, reason: 'rejected_by_backend', message: refusedMessage, data });
    }
  }
  const records = range.last - range.first + 1;
  if (records > 1 && rejectedHere.length === records) {
    window.fail(new FiretapError('FIRETAP_EXPORT_REJECTED', `the backend refused every record of the batch, each alone too: ${range.message}`));
    return;
  }
  for (const entry of rejectedHere) r.metrics.recordsRejected.inc({ signal: d.signal, reason: entry.reason });
  bad.push(...rejectedHere);
}
