import { decodeBase64, decodeBase64Transient } from '../decode/base64.ts';
import { unwrapRecord } from '../decode/cloudwatch-logs.ts';
import { LOGS_AUTO, METRICS_AUTO } from '../decode/formats/auto.ts';
import { detectLogFormat, detectMetricFormat, logRecordFormat, metricRecordFormat, type LogFormat, type MetricFormat } from '../decode/formats.ts';
import type { LogRecordContext, MetricRecordContext } from '../decode/record-format.ts';
import { appendLogGroups, type Continuation } from '../otlp/log-records.ts';
import { RecordError } from '../decode/record-error.ts';
import {
  LOGS_ON_METRICS_ROUTE,
  METRICS_ON_LOGS_ROUTE,
  METRICS_ON_TRACES_ROUTE,
  looksLikeLogsRecord,
  looksLikeMetricStreamRecord,
} from '../decode/misrouted.ts';
import type { OtlpBatch } from '../otlp/batch.ts';
import { appendSpanGroups } from '../otlp/spans.ts';
import { spanRecordGroups } from '../decode/aws-spans.ts';

export type { LogRecordContext, MetricRecordContext } from '../decode/record-format.ts';

/** What a request's records are decoded with, either signal: deliver() builds one per request. */
export interface RecordContext extends MetricRecordContext, LogRecordContext {
  readonly metricFormat: MetricFormat;
  readonly logFormat: LogFormat;
}

/**
 * Decodes one record's base64 `data` into the batch, throwing RecordError when it is bad (the batch
 * is then unchanged). May return a continuation when a large record filled the batch part-way.
 */
export interface RecordCodecs {
  metrics(data: string, batch: OtlpBatch, ctx: MetricRecordContext): undefined;
  logs(data: string, batch: OtlpBatch, ctx: LogRecordContext): Promise<Continuation | undefined>;
  traces(data: string, batch: OtlpBatch, ctx: LogRecordContext): Promise<undefined>;
}

/** Each signal's records, read in the format the route was told or, for `auto`, the one the registry detects. */
export const RECORD_CODECS: RecordCodecs = {
  metrics(data, batch, ctx) {
    // Every byte the metric codecs keep is copied into the batch before the next record is decoded.
    const bytes = decodeBase64Transient(data);
    try {
      const told = metricRecordFormat(ctx.metricFormat);
      if (told === METRICS_AUTO) detectMetricFormat(bytes).decode(bytes, batch, ctx);
      else {
        told.screen?.(bytes);
        told.decode(bytes, batch, ctx);
      }
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
    const told = logRecordFormat(ctx.logFormat);
    let format = told;
    let recognised = false;
    if (told === LOGS_AUTO) recognised = (format = detectLogFormat(plain)) !== LOGS_AUTO;
    else if (!told.raw) recognised = told.detect?.(plain) === true;
    // A raw format chosen by name forwards whatever the record holds; the others say where a metric record belongs.
    if (!told.raw && !recognised && looksLikeMetricStreamRecord(plain)) throw new RecordError('wrong_route', METRICS_ON_LOGS_ROUTE);
    const groups = format.decode(plain, ctx);
    if (ctx.meterRecords) for (const g of groups) for (const e of g.events) if (typeof e.message === 'string') ctx.meterRecords.scan(e.message);
    return appendLogGroups(groups, batch, ctx);
  },
  async traces(data, batch, ctx) {
    const bytes = decodeBase64(data);
    if (bytes.length === 0) return undefined;
    const plain = await unwrapRecord(bytes, ctx.maxRecordBytes, ctx.memory);
    try {
      appendSpanGroups(spanRecordGroups(plain, ctx), batch);
    } catch (err) {
      if (err instanceof RecordError && looksLikeMetricStreamRecord(plain)) throw new RecordError('wrong_route', METRICS_ON_TRACES_ROUTE);
      throw err;
    }
    return undefined;
  },
};
