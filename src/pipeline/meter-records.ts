import { lengthPrefix } from '../decode/length-prefixed.ts';
import type { MeterCollector } from '../decode/meter-records.ts';
import { appendMetricStreamRecord } from '../decode/metric-stream.ts';
import { exportError, logExportFailure } from '../export/exporter.ts';
import type { LedgerEntry } from './delivery-ledger.ts';
import { deadLetterFailure } from './dead-letter.ts';
import type { Delivery, PipelineDeps } from './delivery.ts';
import type { RecordContext } from './record-codecs.ts';

/** The request's meter records as metric sums, among the metrics read from its log events. */
export function appendMeterMetrics(collector: MeterCollector, ctx: RecordContext, d: Delivery): void {
  const meterFrame = collector.metricsFrame([
    ['cloud.provider', 'aws'],
    ...(d.account ? [['cloud.account.id', d.account] as [string, string]] : []),
    ...(d.region ? [['cloud.region', d.region] as [string, string]] : []),
  ]);
  if (meterFrame && ctx.derived) appendMetricStreamRecord(lengthPrefix([meterFrame]), ctx.derived, ctx);
}

/**
 * The request's new meter records: counted, the invalid ones dead-lettered (their log lines were
 * delivered as logs), and the new ones POSTed to the billing endpoint once per request (a retry of a
 * request whose records went out does not send them again). Throws when the request must fail.
 */
export async function sendMeterRecords(deps: PipelineDeps, d: Delivery, collector: MeterCollector, ledger: LedgerEntry, deadline: number): Promise<void> {
  const { metrics } = deps;
  metrics.meterRecords.inc({ outcome: 'new' }, collector.records.length);
  metrics.meterRecords.inc({ outcome: 'duplicate' }, collector.duplicates);
  metrics.meterRecords.inc({ outcome: 'invalid' }, collector.invalid.length);
  if (collector.invalid.length > 0) {
    const first = collector.invalid[0]!;
    d.log.warn(
      { requestId: d.requestId, rejected: collector.invalid.length, first: { recordIndex: first.recordIndex, error: first.message } },
      'meter records rejected',
    );
    if (deps.deadLetter) {
      const entries = collector.invalid.map((m) => ({
        requestId: d.requestId,
        signal: d.signal,
        index: m.recordIndex,
        reason: 'invalid_meter_record',
        message: m.message,
        data: Buffer.from(m.text).toString('base64'),
      }));
      try {
        await deps.deadLetter.write(entries);
        metrics.deadLettered.inc({ signal: d.signal }, entries.length);
      } catch (err) {
        throw deadLetterFailure(deps.deadLetter, `${entries.length} invalid meter record(s)`, err);
      }
    }
  }
  const endpoint = deps.meterRecords?.endpoint;
  if (!endpoint || collector.records.length === 0 || ledger.delivered.has('meter-records')) return;
  const result = await endpoint.export({ signal: 'logs', payload: Buffer.from(JSON.stringify(collector.records)), items: collector.records.length, deadline });
  if (result.status === 'success') {
    ledger.add('meter-records');
    return;
  }
  logExportFailure(d.log, result, { requestId: d.requestId, meterRecords: collector.records.length });
  throw exportError(result);
}
