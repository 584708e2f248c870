import type { Signal } from '../config/schema.ts';
import type { LogFormat, MetricFormat } from '../decode/formats.ts';
import { decodeBase64, decodeBase64Transient } from '../decode/base64.ts';
import { cloudWatchLogGroups, looksLikeSubscriptionMessage, parseCloudWatchLogsJson, unwrapRecord } from '../decode/cloudwatch-logs.ts';
import { LogMetricAggregator, collectLogMetrics } from '../decode/log-metrics.ts';
import type { LogOptions } from '../decode/log-options.ts';
import type { MeterCollector } from '../decode/meter-records.ts';
import { rawLogGroups } from '../decode/raw-logs.ts';
import { appendLogGroups, type Continuation, type LogGroup } from '../otlp/log-records.ts';
import { appendMetricStreamRecord } from '../decode/metric-stream.ts';
import { isJsonMetricRecord, jsonMetricRecordToFrames } from '../decode/metric-stream-json.ts';
import { isOpenTelemetry07Record, openTelemetry07ToFrames } from '../decode/metric-stream-v07.ts';
import { lengthPrefix } from '../decode/length-prefixed.ts';
import { RecordError } from '../decode/record-error.ts';
import { LOGS_ON_METRICS_ROUTE, METRICS_ON_LOGS_ROUTE, looksLikeLogsRecord, looksLikeMetricStreamRecord } from '../decode/misrouted.ts';
import type { OtlpBatch } from '../otlp/batch.ts';
import type { EncodedAttribute } from '../otlp/wire.ts';
import type { Enrichment } from '../enrich/enrichment.ts';
import type { EnrichmentStats } from '../enrich/enrichment-stats.ts';
import type { MemoryShare } from '../memory/memory-budget.ts';

export interface RecordContext {
  readonly resourceAttributes: readonly EncodedAttribute[];
  readonly region: string | undefined;
  /** Account of the delivery stream, from X-Amz-Firehose-Source-Arn. */
  readonly account: string | undefined;
  readonly observedAtMs: number;
  readonly maxBatchBytes: number;
  readonly maxRecordBytes: number;
  /** The request's share of the memory budget that gunzipped records are taken from (none on a decode thread). */
  readonly memory?: MemoryShare | undefined;
  readonly enrichment: Enrichment | undefined;
  readonly stats: EnrichmentStats;
  /** Metric-stream output format of the records: detected per record by default. */
  readonly metricFormat: MetricFormat;
  /** Where the attributes of known AWS resources go (FIRETAP_ENRICHMENT_ATTRIBUTES_ON). */
  readonly attributesOn: 'datapoint' | 'resource';
  /** How records of the logs route are read: detected per record by default. */
  readonly logFormat: LogFormat;
  readonly logs: LogOptions;
  /** Where metrics read out of log events go (the logs route only; none while records are retried alone). */
  readonly derived: OtlpBatch | undefined;
  /** Collects the meter records of log lines (the logs route only, when on). */
  readonly meters: MeterCollector | undefined;
}

/**
 * Decodes one record's base64 `data` into the batch, throwing RecordError when it is bad (the batch
 * is then unchanged). May return a continuation when a large record filled the batch part-way.
 */
export type RecordCodec = (data: string, batch: OtlpBatch, ctx: RecordContext) => Continuation | undefined | Promise<Continuation | undefined>;

export const RECORD_CODECS: Readonly<Record<Signal, RecordCodec>> = {
  metrics(data, batch, ctx) {
    // Every byte the metric codecs keep is copied into the batch before the next record is decoded.
    const bytes = decodeBase64Transient(data);
    const format = ctx.metricFormat;
    try {
      if (format === 'json' || (format === 'auto' && isJsonMetricRecord(bytes))) {
        appendMetricStreamRecord(lengthPrefix(jsonMetricRecordToFrames(bytes)), batch, ctx);
        return undefined;
      }
      if (format === 'opentelemetry1.0') {
        if (isJsonMetricRecord(bytes)) throw new RecordError('format', 'record is metric-stream JSON, but this route was told ?format=opentelemetry1.0');
        if (isOpenTelemetry07Record(bytes)) throw new RecordError('format', 'record is OpenTelemetry 0.7.0 (data point labels), but this route was told ?format=opentelemetry1.0');
      }
      const v07 = format === 'opentelemetry0.7' || (format === 'auto' && isOpenTelemetry07Record(bytes));
      appendMetricStreamRecord(v07 ? lengthPrefix(openTelemetry07ToFrames(bytes)) : bytes, batch, ctx);
      return undefined;
    } catch (err) {
      // Only a record that failed is looked at again: the good ones pay nothing for the hint.
      if (err instanceof RecordError && looksLikeLogsRecord(bytes)) throw new RecordError('wrong_route', LOGS_ON_METRICS_ROUTE);
      throw err;
    }
  },
  async logs(data, batch, ctx) {
    const bytes = decodeBase64(data);
    if (bytes.length === 0) return undefined;
    // The batch is written only after the record parsed: a bad record leaves nothing behind.
    const plain = await unwrapRecord(bytes, ctx.maxRecordBytes, ctx.memory);
    const format = ctx.logFormat;
    // A raw format chosen explicitly forwards whatever the record holds; the others say where a metric record belongs.
    const detecting = format === 'auto' || format === 'cloudwatch-logs';
    const recognised = detecting && looksLikeSubscriptionMessage(plain);
    if (detecting && !recognised && looksLikeMetricStreamRecord(plain)) throw new RecordError('wrong_route', METRICS_ON_LOGS_ROUTE);
    const subscription = format === 'cloudwatch-logs' || recognised;
    let groups: LogGroup[];
    if (subscription) {
      const messages = parseCloudWatchLogsJson(plain);
      if (ctx.derived && ctx.logs.metrics.size > 0) {
        const metrics = new LogMetricAggregator();
        collectLogMetrics(messages, ctx.region, ctx.logs.metrics, metrics);
        if (metrics.size > 0) appendMetricStreamRecord(lengthPrefix(metrics.frames()), ctx.derived, ctx);
      }
      groups = cloudWatchLogGroups(messages, ctx);
    } else {
      groups = rawLogGroups(plain, format, ctx);
    }
    if (ctx.meters) for (const g of groups) for (const e of g.events) if (typeof e.message === 'string') ctx.meters.scan(e.message);
    return appendLogGroups(groups, batch, ctx);
  },
};
