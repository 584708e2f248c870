import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { RecordError } from '../decode/record-error.ts';
import type { FiretapError } from '../errors.ts';
import { exportError, logExportFailure, type ExportResult } from '../export/exporter.ts';
import { bodyDigest } from './body-digest.ts';
import { OtlpBatch } from '../otlp/batch.ts';
import { countLookups } from '../telemetry/metrics.ts';
import type { DeadLetterEntry } from './dead-letter.ts';
import type { LedgerEntry } from './delivery-ledger.ts';
import { EnrichmentStats } from '../enrich/enrichment-stats.ts';
import { MeterCollector } from '../decode/meter-records.ts';
import { encodedAttribute, type EncodedAttribute } from '../otlp/wire.ts';
import { RECORD_CODECS, type RecordContext } from './record-codecs.ts';
import { setAside } from './bad-records.ts';
import type { Delivery, DeliveryReport, PipelineDeps } from './delivery.ts';
import { DerivedMetrics } from './derived-metrics.ts';
import { SpansFromLogs } from './spans-from-logs.ts';
import { ExportWindow } from './export-window.ts';
import { appendMeterMetrics, sendMeterRecords } from './meter-records.ts';
import { decodeOffThread, decodeThreadsFor } from './off-thread-decode.ts';
import { isolate, refusesTheData, type RefusedRange } from './refused-records.ts';

export { MAX_OFF_THREAD_BODY_BYTES } from './off-thread-decode.ts';
export type { Delivery, DeliveryReport, MeterPipeline, PipelineDeps } from './delivery.ts';

/** Synchronous decoding runs at most this long before the event loop gets a turn (health checks, other requests). */
const TIME_SLICE_MS = 5;

/** What the last record of a batch may add past maxBatchBytes without the batch's buffer growing. */
const BATCH_HEADROOM = 2 * 1024 * 1024;
/** How much larger than the request a logs batch is assumed to grow, and what a last log event may add past maxBatchBytes. */
const LOGS_EXPANSION = 8;
const LOGS_HEADROOM = 256 * 1024;

/**
 * Delivers one Firehose request: decodes record after record into bounded OTLP batches, exports each
 * batch as soon as it is full (a few in flight at once), and resolves only when every batch was
 * accepted. Bad records are set aside and never stop the good ones. Throws FiretapError when the
 * request must not be acknowledged.
 */
export async function deliver(deps: PipelineDeps, d: Delivery, report: DeliveryReport): Promise<void> {
  const { config, metrics } = deps;
  const exporter = deps.exporters[d.signal];
  const codec = RECORD_CODECS[d.signal];
  const deadline = d.receivedAtMs + config.requestTimeoutMs;
  const ctx: RecordContext = {
    resourceAttributes: resourceAttributes(d.commonAttributes, config.resourceAttributes),
    region: d.region,
    account: d.account,
    observedAtMs: d.receivedAtMs,
    maxBatchBytes: config.export.maxBatchBytes,
    maxRecordBytes: config.maxRecordBytes,
    memory: d.memory,
    enrichment: deps.enrichment,
    stats: new EnrichmentStats(),
    metricFormat: d.metricFormat,
    attributesOn: config.enrichment.attributesOn,
    logFormat: d.logFormat,
    logs: deps.logs,
    derived: d.signal === 'logs' && (deps.logs.metrics.size > 0 || deps.meterRecords) ? new OtlpBatch() : undefined,
    meterRecords:
      d.signal === 'logs' && deps.meterRecords ? new MeterCollector(deps.meterRecords.marker, deps.meterRecords.dedupe, deps.meterRecords.shared) : undefined,
    spans: d.signal === 'logs' ? new OtlpBatch() : undefined,
  };
  const { envelope } = d;
  const threads = d.signal === 'metrics' ? decodeThreadsFor(deps.decoders, envelope) : undefined;
  const offThread = threads ? await decodeOffThread(threads, deps.buffers, envelope, ctx, deadline) : undefined;
  if (d.signal === 'metrics') metrics.metricRequestsDecoded.inc({ thread: offThread ? 'decode' : 'main' });
  // With the request id, the body's digest identifies a retry of the same request (a decode thread hashed it already).
  const digest = offThread?.result.digest ?? (await bodyDigest(envelope.body));
  const ledger: LedgerEntry = await deps.ledger.entry(`${d.signal}\u0000${d.requestId}\u0000${digest}`);
  if (ledger.complete) {
    offThread?.release(deps.buffers);
    report.records = envelope.count;
    d.log.info({ requestId: d.requestId }, 'request already delivered by an earlier attempt; acknowledging');
    return;
  }
  const whole = offThread?.isOneBatch(config.export.maxBatchBytes);
  // Sized once, with room for tags and for the record that takes a batch past maxBatchBytes: a doubling costs
  // a copy; capacity never written costs no resident memory (but counts as V8 external memory). Log records
  // come out several times larger than their gzipped records went in, and are cut at maxBatchBytes.
  const bodyBytes = envelope.byteLength;
  const batch = new OtlpBatch(
    whole
      ? 0
      : d.signal === 'metrics'
        ? Math.min(config.export.maxBatchBytes, bodyBytes) + Math.min(BATCH_HEADROOM, Math.ceil(bodyBytes / 2))
        : Math.min(config.export.maxBatchBytes, LOGS_EXPANSION * bodyBytes) + LOGS_HEADROOM,
    deps.buffers,
  );
  const window = new ExportWindow(metrics, deadline, config.export.concurrency, `/firehose/${d.signal}`);
  const derived = ctx.derived ? new DerivedMetrics(ctx.derived, deps, d, ledger, window) : undefined;
  const bad: Array<DeadLetterEntry> = [];
  const spans = ctx.spans ? new SpansFromLogs(ctx.spans, deps, d, ledger, window, bad) : undefined;
  /** Record ranges of batches the backend refused as bad data: retried record by record at the end. */
  const refused: RefusedRange[] = [];
  let batchFirst = 0;
  let current = 0;
  /** The batch being written began or will end inside a record (a large log record split between batches). */
  let midRecord = false;

  let failureLogged = false;
  /** Exports one batch of the request's signal; resolves to the result after counting it for the request. */
  const exportBatch = async (payload: Uint8Array, items: number, batchId?: string): Promise<ExportResult> => {
    const result = await window.export(exporter, d.signal, payload, items, batchId === undefined ? undefined : `${ledger.key}\u0000${batchId}`);
    report.exports++;
    if (result.status === 'success') {
      report.exportedItems += items;
      if (result.rejected) {
        metrics.itemsRejectedByBackend.inc({ signal: d.signal }, result.rejected);
        d.log.warn(
          { requestId: d.requestId, rejected: result.rejected, backendMessage: result.message },
          'OTLP backend accepted the export but rejected some items',
        );
      }
    } else {
      // The answer names the backend's status only; the first failure's detail (URL, the backend's words) is logged.
      if (!failureLogged) failureLogged = logExportFailure(d.log, result, { requestId: d.requestId, signal: d.signal, items });
      if (result.status === 'retryable') window.fail(exportError(result));
    }
    return result;
  };

  const sendOne = async (payload: Uint8Array, items: number, first: number, last: number, batchId: string | undefined): Promise<void> => {
    if (batchId !== undefined && ledger.delivered.has(batchId)) {
      deps.buffers.release(payload);
      report.skippedItems += items;
      metrics.itemsSkipped.inc({ signal: d.signal }, items);
      return;
    }
    const result = await exportBatch(payload, items, batchId);
    // The exporter is done with the payload (it has settled), and a refused batch is re-encoded from its records.
    deps.buffers.release(payload);
    if (result.status === 'success' && batchId !== undefined) ledger.add(batchId);
    if (result.status !== 'permanent') return;
    // The data, not the backend: find the record(s) responsible rather than refuse the whole request.
    if (refusesTheData(result)) refused.push({ first, last, message: result.message });
    else window.fail(exportError(result));
  };

  const flush = async (last = false): Promise<void> => {
    if (batch.items === 0) {
      batch.clear();
      return;
    }
    const { payload, items } = batch.take(last);
    report.items += items;
    const first = batchFirst;
    batchFirst = current;
    // Only a batch of whole records can be recognised again on a retry (see DeliveryLedger).
    const batchId = midRecord ? undefined : `${first}-${current}`;
    midRecord = false;
    await window.start(sendOne(payload, items, first, current, batchId));
  };

  let sliceStart = performance.now();
  report.records = envelope.count;
  metrics.records.inc({ signal: d.signal }, envelope.count);
  for (let i = 0; i < envelope.count && window.failure === undefined; i++) {
    current = i;
    if (batch.bytes === 0) batchFirst = i;
    let data: string | undefined;
    if (ctx.meterRecords) ctx.meterRecords.recordIndex = i;
    try {
      if (offThread) {
        if (whole) {
          offThread.adoptInto(batch);
          current = envelope.count - 1;
          break;
        }
        offThread.copyRecord(i, batch);
      } else {
        data = envelope.data(i);
        let next = await codec(data, batch, ctx);
        while (next) {
          midRecord = true;
          await flush();
          midRecord = true;
          next = next();
        }
      }
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      metrics.recordsRejected.inc({ signal: d.signal, reason: err.reason });
      bad.push({ requestId: d.requestId, signal: d.signal, index: i, reason: err.reason, message: err.message, data: data ?? envelope.data(i) });
    }
    if (batch.bytes >= config.export.maxBatchBytes) await flush();
    if (derived && derived.batch.bytes >= config.export.maxBatchBytes) await derived.flush(i);
    if (spans) {
      spans.decoded(i);
      if (spans.batch.bytes >= config.export.maxBatchBytes) await spans.flush();
    }
    if (performance.now() - sliceStart > TIME_SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  if (window.failure === undefined) await flush(true);
  if (ctx.meterRecords && window.failure === undefined) await ctx.meterRecords.reserve().catch((err: FiretapError) => window.fail(err));
  if (ctx.meterRecords) appendMeterMetrics(ctx.meterRecords, ctx, d);
  if (window.failure === undefined && derived) await derived.flush(envelope.count - 1);
  if (window.failure === undefined && spans) await spans.flush();
  await window.drain();
  batch.dispose();
  offThread?.release(deps.buffers);
  if (window.failure === undefined && ctx.meterRecords)
    await sendMeterRecords(deps, d, ctx.meterRecords, ledger, deadline).catch((err: FiretapError) => window.fail(err));
  if (refused.length > 0) {
    const refusals = { d, codec, ctx, metrics, window, exportBatch, bad };
    for (const range of refused) if (window.failure === undefined) await isolate(range, refusals);
  }
  metrics.items.inc({ signal: d.signal, stage: 'received' }, report.items);
  ctx.stats.settle();
  countLookups(metrics, d.signal, ctx.stats);
  report.badRecords = bad.length;
  try {
    if (window.failure) throw window.failure;
    if (bad.length > 0) await setAside(deps, d, bad, envelope.count);
  } catch (err) {
    await ctx.meterRecords?.release();
    throw err;
  }
  await ledger.finish();
  await ctx.meterRecords?.commit();
}

/**
 * The operator's configured attributes (FIRETAP_RESOURCE_ATTRIBUTES), then the request's common attributes
 * under other keys: whoever can send a request must not rename the operator's service.name. The data's own
 * attributes win over both.
 */
function resourceAttributes(common: Readonly<Record<string, string>>, configured: Readonly<Record<string, string>>): EncodedAttribute[] {
  const out: EncodedAttribute[] = [];
  for (const [k, v] of Object.entries(configured)) out.push(encodedAttribute(k, v));
  for (const [k, v] of Object.entries(common)) if (!Object.hasOwn(configured, k)) out.push(encodedAttribute(k, v));
  return out;
}
