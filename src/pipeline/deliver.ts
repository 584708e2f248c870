import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { Config, Signal } from '../config/schema.ts';
import { RecordError } from '../decode/record-error.ts';
import { FiretapError } from '../errors.ts';
import { exportError, logExportFailure, type ExportResult, type Exporter } from '../export/exporter.ts';
import type { LocatedRecords } from './located-records.ts';
import { bodyDigest } from './body-digest.ts';
import { OtlpBatch } from '../otlp/batch.ts';
import { countLookups, type Metrics } from '../telemetry/metrics.ts';
import { deadLetterFailure, type DeadLetter, type DeadLetterEntry } from './dead-letter.ts';
import type { BufferPool } from '../memory/buffer-pool.ts';
import type { DeliveryLedger, LedgerEntry } from './delivery-ledger.ts';
import type { Enrichment } from '../enrich/enrichment.ts';
import { EnrichmentStats } from '../enrich/enrichment-stats.ts';
import type { LogOptions } from '../decode/log-options.ts';
import { MeterCollector, type MeterDeduplicator } from '../decode/meter-records.ts';
import { appendMetricStreamRecord } from '../decode/metric-stream.ts';
import { lengthPrefix } from '../decode/length-prefixed.ts';
import type { DecodePool, DecodeResult } from './decode-pool.ts';
import type { MemoryBudget, MemoryShare } from '../memory/memory-budget.ts';
import { copyRange, encodedAttribute, type EncodedAttribute } from '../otlp/wire.ts';
import { formatDescription, type LogFormat, type MetricFormat } from '../decode/formats.ts';
import { RECORD_CODECS, type RecordContext } from './record-codecs.ts';

/**
 * Metrics requests up to this size are decoded on a decode thread, when there are any: into a buffer 1.5× the
 * body, held until the request is done. Larger ones are decoded here in time slices, a batch at a time, which
 * keeps a 64 MiB request's memory under 4× its size.
 */
export const MAX_OFF_THREAD_BODY_BYTES = 16 * 1024 * 1024;

/**
 * A metrics request is decoded here instead when every decode thread already has this many requests in hand,
 * so that neither side idles while the other queues. Measured with eventLoopUtilization under the bench (8
 * requests in flight, one thread): with 2, the thread was ~50 % busy while the main thread was saturated; with
 * 4, both were 80–95 % busy; sending everything to the thread left the main thread half idle and tagged
 * throughput ~10 % lower.
 */
const MAX_QUEUED_PER_THREAD = 4;

/** Synchronous decoding runs at most this long before the event loop gets a turn (health checks, other requests). */
const TIME_SLICE_MS = 5;

/** What the last record of a batch may add past maxBatchBytes without the batch's buffer growing. */
const BATCH_HEADROOM = 2 * 1024 * 1024;
/** How much larger than the request a logs batch is assumed to grow, and what a last log event may add past maxBatchBytes. */
const LOGS_EXPANSION = 8;
const LOGS_HEADROOM = 256 * 1024;

export interface PipelineDeps {
  readonly config: Config;
  readonly exporters: Readonly<Record<Signal, Exporter>>;
  readonly metrics: Metrics;
  readonly deadLetter: DeadLetter | undefined;
  /** The tag cache, when enrichment is on. */
  readonly enrichment: Enrichment | undefined;
  readonly ledger: DeliveryLedger;
  /** Request bodies and export batches, reused from one request to the next. */
  readonly buffers: BufferPool;
  /** The logs settings, compiled once. */
  readonly logs: LogOptions;
  /** Meter records in log lines, when on: the process-wide deduplication and the billing endpoint. */
  readonly meters: MeterPipeline | undefined;
  readonly decoders?: DecodePool | undefined;
  /** The budget for decoded bytes in flight (bodies, gunzipped records) that every request draws from. */
  readonly memory: MemoryBudget;
}

export interface MeterPipeline {
  readonly marker: string;
  readonly dedupe: MeterDeduplicator;
  /** POSTs the records as a JSON array, when an endpoint is configured. */
  readonly endpoint: Exporter | undefined;
}

export interface Delivery {
  readonly signal: Signal;
  readonly requestId: string;
  readonly envelope: LocatedRecords;
  /** X-Amz-Firehose-Common-Attributes, already parsed. */
  readonly commonAttributes: Readonly<Record<string, string>>;
  /** Region of the delivery stream, from X-Amz-Firehose-Source-Arn. */
  readonly region: string | undefined;
  /** Account of the delivery stream, from X-Amz-Firehose-Source-Arn. */
  readonly account: string | undefined;
  readonly receivedAtMs: number;
  readonly log: FastifyBaseLogger;
  readonly metricFormat: MetricFormat;
  readonly logFormat: LogFormat;
  /** The request's share of the memory budget for gunzipped records. */
  readonly memory?: MemoryShare | undefined;
}

export interface DeliveryReport {
  records: number;
  badRecords: number;
  /** Data points or log records decoded. */
  items: number;
  /** Of those, accepted by the backend. */
  exportedItems: number;
  exports: number;
  /** Items not sent again because an earlier attempt of the same request had delivered them. */
  skippedItems: number;
}

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
    derived: d.signal === 'logs' && (deps.logs.metrics.size > 0 || deps.meters) ? new OtlpBatch() : undefined,
    meters: d.signal === 'logs' && deps.meters ? new MeterCollector(deps.meters.marker, deps.meters.dedupe) : undefined,
  };
  const { envelope } = d;
  // The first request a decode thread could take starts the threads; it is decoded here while they start.
  const decoders = d.signal === 'metrics' && envelope.byteLength <= MAX_OFF_THREAD_BODY_BYTES ? deps.decoders : undefined;
  decoders?.start();
  const offThread = decoders && !decoders.busy(MAX_QUEUED_PER_THREAD) ? await decodeOffThread(decoders, deps.buffers, envelope, ctx, deadline) : undefined;
  if (d.signal === 'metrics') metrics.metricRequestsDecoded.inc({ thread: offThread ? 'decode' : 'main' });
  // With the request id, the body's digest identifies a retry of the same request (a decode thread hashed it already).
  const digest = offThread?.result.digest ?? (await bodyDigest(envelope.body));
  const ledger: LedgerEntry = deps.ledger.entry(`${d.signal}\u0000${d.requestId}\u0000${digest}`);
  if (ledger.complete) {
    if (offThread?.out) deps.buffers.release(offThread.out);
    report.records = envelope.count;
    d.log.info({ requestId: d.requestId }, 'request already delivered by an earlier attempt; acknowledging');
    return;
  }
  // Every record decoded on a thread and all of them one batch: the thread's output is the batch, as it stands.
  const whole = offThread !== undefined && offThread.result.errors.length === 0 && offThread.result.length <= config.export.maxBatchBytes;
  // Metric records come out about as large as they went in (less base64, plus enrichment): sized once, with
  // room for tags and for the record that takes a batch past maxBatchBytes — a doubling costs a copy and twice
  // the pages; capacity never written costs no resident memory (but counts towards V8's external memory, so
  // a small request gets a small buffer).
  const bodyBytes = envelope.byteLength;
  // Log records come out several times larger than their gzipped records went in (CloudWatch Logs text
  // compresses 5-10×), and a logs batch is cut at maxBatchBytes even inside a record.
  const batch = new OtlpBatch(
    whole
      ? 0
      : d.signal === 'metrics'
      ? Math.min(config.export.maxBatchBytes, bodyBytes) + Math.min(BATCH_HEADROOM, Math.ceil(bodyBytes / 2))
      : Math.min(config.export.maxBatchBytes, LOGS_EXPANSION * bodyBytes) + LOGS_HEADROOM,
    deps.buffers,
  );
  const inFlight = new Set<Promise<void>>();
  let failure: FiretapError | undefined;
  const bad: Array<DeadLetterEntry> = [];
  /** Record ranges of batches the backend refused as bad data: retried record by record at the end. */
  const refused: Array<{ first: number; last: number; message: string }> = [];
  let batchFirst = 0;
  let current = 0;
  /** The batch being written began or will end inside a record (a large log record split between batches). */
  let midRecord = false;

  let failureLogged = false;
  /** Exports one batch; resolves to the result after counting it. */
  const exportBatch = async (payload: Uint8Array, items: number): Promise<ExportResult> => {
    const started = performance.now();
    metrics.exportsInFlight.inc();
    const result = await exporter.export({ signal: d.signal, payload, items, deadline }).finally(() => metrics.exportsInFlight.dec());
    metrics.exports.inc({ signal: d.signal, outcome: result.status });
    metrics.exportDuration.observe({ signal: d.signal, outcome: result.status }, (performance.now() - started) / 1000);
    report.exports++;
    if (result.status === 'success') {
      report.exportedItems += items;
      metrics.items.inc({ signal: d.signal, stage: 'exported' }, items);
      if (result.rejected) {
        metrics.itemsRejectedByBackend.inc({ signal: d.signal }, result.rejected);
        d.log.warn({ requestId: d.requestId, rejected: result.rejected, backendMessage: result.message }, 'OTLP backend accepted the export but rejected some items');
      }
    } else {
      // The answer names the backend's status only; the first failure's detail (URL, the backend's words) is logged.
      if (!failureLogged) failureLogged = logExportFailure(d.log, result, { requestId: d.requestId, signal: d.signal, items });
      if (result.status === 'retryable') failure ??= exportError(result);
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
    const result = await exportBatch(payload, items);
    // The exporter is done with the payload (it has settled), and a refused batch is re-encoded from its records.
    deps.buffers.release(payload);
    if (result.status === 'success' && batchId !== undefined) ledger.delivered.add(batchId);
    if (result.status !== 'permanent') return;
    // The data, not the backend: find the record(s) responsible rather than refuse the whole request.
    if (refusesTheData(result)) refused.push({ first, last, message: result.message });
    else failure ??= exportError(result);
  };

  /**
   * Re-sends the records of a refused batch one record at a time. Those the backend refuses alone are
   * set aside as bad records (dead-lettered), so one record the backend will not take never blocks the
   * others. When it refuses every one of several records, the data is not the problem (a backend
   * misconfiguration, say): the request fails instead, and Firehose keeps it.
   */
  const isolate = async (range: { first: number; last: number; message: string }): Promise<void> => {
    const rejectedHere: DeadLetterEntry[] = [];
    for (let k = range.first; k <= range.last && failure === undefined; k++) {
      const data = envelope.data(k);
      if (bad.some((b) => b.index === k)) continue;
      const single = new OtlpBatch();
      const alone: RecordContext = { ...ctx, derived: undefined, meters: undefined };
      let refusedMessage: string | undefined;
      try {
        for (let next = await codec(data, single, alone); ; next = next()) {
          const { payload, items } = single.take();
          if (items > 0 && refusedMessage === undefined) {
            const result = await exportBatch(payload, items);
            if (result.status === 'permanent') {
              if (refusesTheData(result)) refusedMessage = result.message;
              else failure ??= exportError(result);
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
      failure ??= new FiretapError('FIRETAP_EXPORT_REJECTED', `the backend refused every record of the batch, each alone too: ${range.message}`);
      return;
    }
    for (const entry of rejectedHere) metrics.recordsRejected.inc({ signal: d.signal, reason: entry.reason });
    bad.push(...rejectedHere);
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
    const sending = sendOne(payload, items, first, current, batchId).catch((err: unknown) => {
      failure ??= new FiretapError('FIRETAP_INTERNAL', `export failed unexpectedly: ${(err as Error).message}`, { retryable: true, cause: err });
    });
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
    while (inFlight.size >= config.export.concurrency) await Promise.race(inFlight);
  };

  /**
   * Metrics read out of log events (Lambda REPORT lines, EMF) go to the metrics exporter, a batch at a
   * time between records. Their delivery counts like the logs': the request is acknowledged only once
   * both went out. A backend that refuses them as bad data loses nothing the logs do not still hold:
   * that is logged and counted, and the logs are acknowledged.
   */
  let derivedFirst = 0;
  const flushDerived = async (last: number): Promise<void> => {
    const derived = ctx.derived;
    if (!derived || derived.items === 0) return;
    const { payload, items } = derived.take();
    const id = `derived-${derivedFirst}-${last}`;
    derivedFirst = last + 1;
    metrics.items.inc({ signal: 'metrics', stage: 'received' }, items);
    if (ledger.delivered.has(id)) {
      metrics.itemsSkipped.inc({ signal: 'metrics' }, items);
      return;
    }
    const sending = deps.exporters.metrics.export({ signal: 'metrics', payload, items, deadline }).then(
      (result) => {
        metrics.exports.inc({ signal: 'metrics', outcome: result.status });
        if (result.status === 'success') {
          ledger.delivered.add(id);
          metrics.items.inc({ signal: 'metrics', stage: 'exported' }, items);
        } else if (result.status === 'retryable') {
          logExportFailure(d.log, result, { requestId: d.requestId, signal: 'metrics', items });
          failure ??= exportError(result, 'metrics read from the logs: ');
        } else {
          d.log.warn({ requestId: d.requestId, items, backendMessage: result.message, backend: result.detail }, 'the metrics backend refused the metrics read from log events; the log events themselves were delivered');
        }
      },
      (err: unknown) => {
        failure ??= new FiretapError('FIRETAP_INTERNAL', `export failed unexpectedly: ${(err as Error).message}`, { retryable: true, cause: err });
      },
    );
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
    while (inFlight.size >= config.export.concurrency) await Promise.race(inFlight);
  };

  let sliceStart = performance.now();
  report.records = envelope.count;
  metrics.records.inc({ signal: d.signal }, envelope.count);
  for (let i = 0; i < envelope.count && failure === undefined; i++) {
    current = i;
    if (batch.bytes === 0) batchFirst = i;
    let data: string | undefined;
    if (ctx.meters) ctx.meters.recordIndex = i;
    try {
      if (offThread) {
        const { result, out } = offThread;
        if (whole) {
          batch.adopt(out!, result.length, result.items.reduce((a, b) => a + b, 0));
          offThread.out = undefined;
          current = envelope.count - 1;
          break;
        }
        // The thread lists bad records in order: the next one is the only one that can be this record.
        const error = result.errors[offThread.nextError];
        if (error?.index === i) {
          offThread.nextError++;
          throw new RecordError(error.reason, error.message);
        }
        copyRange(batch.writer, out!, i === 0 ? 0 : result.ends[i - 1]!, result.ends[i]!);
        batch.items += result.items[i]!;
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
    if (ctx.derived && ctx.derived.bytes >= config.export.maxBatchBytes) await flushDerived(i);
    if (performance.now() - sliceStart > TIME_SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  if (failure === undefined) await flush(true);
  const meterFrame = ctx.meters?.metricsFrame([['cloud.provider', 'aws'], ...(d.account ? [['cloud.account.id', d.account] as [string, string]] : []), ...(d.region ? [['cloud.region', d.region] as [string, string]] : [])]);
  if (meterFrame && ctx.derived) appendMetricStreamRecord(lengthPrefix([meterFrame]), ctx.derived, ctx);
  if (failure === undefined) await flushDerived(envelope.count - 1);
  await Promise.all(inFlight);
  batch.dispose();
  if (offThread?.out) deps.buffers.release(offThread.out);
  if (failure === undefined && ctx.meters) await sendMeterRecords(deps, d, ctx.meters, ledger, deadline).catch((err: FiretapError) => (failure ??= err));
  for (const range of refused) if (failure === undefined) await isolate(range);
  metrics.items.inc({ signal: d.signal, stage: 'received' }, report.items);
  ctx.stats.settle();
  countLookups(metrics, d.signal, ctx.stats);
  report.badRecords = bad.length;
  if (failure) throw failure;
  if (bad.length > 0) await setAside(deps, d, bad, envelope.count);
  ledger.complete = true;
  ctx.meters?.commit();
}

/**
 * The request's new meter records: counted, the invalid ones dead-lettered (their log lines were
 * delivered as logs), and the new ones POSTed to the billing endpoint once per request (a retry of a
 * request whose records went out does not send them again). Throws when the request must fail.
 */
async function sendMeterRecords(deps: PipelineDeps, d: Delivery, meters: MeterCollector, ledger: LedgerEntry, deadline: number): Promise<void> {
  const { metrics } = deps;
  metrics.meterRecords.inc({ outcome: 'new' }, meters.records.length);
  metrics.meterRecords.inc({ outcome: 'duplicate' }, meters.duplicates);
  metrics.meterRecords.inc({ outcome: 'invalid' }, meters.invalid.length);
  if (meters.invalid.length > 0) {
    const first = meters.invalid[0]!;
    d.log.warn({ requestId: d.requestId, rejected: meters.invalid.length, first: { recordIndex: first.recordIndex, error: first.message } }, 'meter records rejected');
    if (deps.deadLetter) {
      const entries = meters.invalid.map((m) => ({ requestId: d.requestId, signal: d.signal, index: m.recordIndex, reason: 'invalid_meter_record', message: m.message, data: Buffer.from(m.text).toString('base64') }));
      try {
        await deps.deadLetter.write(entries);
        metrics.deadLettered.inc({ signal: d.signal }, entries.length);
      } catch (err) {
        throw deadLetterFailure(deps.deadLetter, `${entries.length} invalid meter record(s)`, err);
      }
    }
  }
  const endpoint = deps.meters?.endpoint;
  if (!endpoint || meters.records.length === 0 || ledger.delivered.has('meter-records')) return;
  const result = await endpoint.export({ signal: 'logs', payload: Buffer.from(JSON.stringify(meters.records)), items: meters.records.length, deadline });
  if (result.status === 'success') {
    ledger.delivered.add('meter-records');
    return;
  }
  logExportFailure(d.log, result, { requestId: d.requestId, meterRecords: meters.records.length });
  throw exportError(result);
}

/**
 * Bad records beside good ones: the good ones were delivered, so the request is acknowledged, and each
 * bad record is logged once and kept in the dead-letter file when one is configured. When every record
 * is bad nothing was delivered, so the request is refused instead: Firehose retries it and finally
 * keeps it in its S3 backup, where it is not lost either.
 */
async function setAside(deps: PipelineDeps, d: Delivery, bad: DeadLetterEntry[], total: number): Promise<void> {
  const first = bad[0]!;
  d.log.warn({ requestId: d.requestId, signal: d.signal, rejected: bad.length, records: total, reasons: countBy(bad, (b) => b.reason), first: { recordIndex: first.index, reason: first.reason, error: first.message } }, 'records rejected');
  if (bad.length === total) {
    if (bad.every((b) => b.reason === 'wrong_route')) throw new FiretapError('FIRETAP_ALL_RECORDS_INVALID', `${first.message} (all ${total} record(s))`);
    if (bad.every((b) => b.reason === 'rejected_by_backend')) {
      throw new FiretapError('FIRETAP_EXPORT_REJECTED', `the backend refused all ${total} record(s); record ${first.index}: ${first.message}`);
    }
    throw new FiretapError(
      'FIRETAP_ALL_RECORDS_INVALID',
      `none of the ${total} record(s) could be decoded as ${formatDescription(d.signal, d.signal === 'metrics' ? d.metricFormat : d.logFormat)} data; record ${first.index}: ${first.message}`,
    );
  }
  if (!deps.deadLetter) return;
  try {
    await deps.deadLetter.write(bad);
    deps.metrics.deadLettered.inc({ signal: d.signal }, bad.length);
  } catch (err) {
    // The good records went out, but a bad one would be lost: have Firehose send the request again.
    throw deadLetterFailure(deps.deadLetter, `${bad.length} rejected record(s)`, err);
  }
}

/**
 * Has a decode thread rewrite every record of a metrics request into shared memory from the pool, and counts
 * its enrichment hits and misses on the request's stats. `out` holds the records' OTLP, one after the other.
 */
async function decodeOffThread(pool: DecodePool, buffers: BufferPool, envelope: LocatedRecords, ctx: RecordContext, deadline: number): Promise<{ result: DecodeResult; out: Buffer | undefined; nextError: number }> {
  const given = buffers.acquire(envelope.byteLength + (envelope.byteLength >> 1), true);
  let result: DecodeResult;
  try {
    result = await pool.decode(envelope, given, { resourceAttributes: ctx.resourceAttributes, metricFormat: ctx.metricFormat, attributesOn: ctx.attributesOn, enrich: ctx.enrichment !== undefined }, deadline);
  } catch (err) {
    buffers.release(given);
    throw err;
  }
  for (const [namespace, n] of result.hits) ctx.stats.add(namespace, true, n);
  for (const [namespace, n] of result.misses) ctx.stats.add(namespace, false, n);
  if (!result.spilled) return { result, out: given, nextError: 0 };
  buffers.release(given);
  return { result, out: Buffer.from(result.spilled.buffer, result.spilled.byteOffset, result.spilled.byteLength), nextError: 0 };
}

/** How many items fall under each key: one log line summarises a request's bad records, whatever their number. */
function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

/** 400 and 413 from the backend say "this data", not "this backend". */
const refusesTheData = (result: ExportResult & { status: 'permanent' }): boolean => result.httpStatus === 400 || result.httpStatus === 413;

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
