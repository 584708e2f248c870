import type { Signal } from '../config/schema.ts';
import { decodeBase64 } from '../decode/base64.ts';
import { appendCloudWatchLogs, parseCloudWatchLogsRecord, type Continuation } from '../decode/cloudwatch-logs.ts';
import { appendMetricStreamRecord } from '../decode/metric-stream.ts';
import type { OtlpBatch } from '../otlp/batch.ts';
import type { EncodedAttribute } from '../otlp/wire.ts';
import type { Enrichment, EnrichmentStats } from '../enrich/enrichment.ts';

export interface RecordContext {
  readonly resourceAttributes: readonly EncodedAttribute[];
  readonly region: string | undefined;
  readonly observedAtMs: number;
  readonly maxBatchBytes: number;
  readonly maxRecordBytes: number;
  readonly enrichment: Enrichment | undefined;
  readonly stats: EnrichmentStats;
}

/**
 * Decodes one record's base64 `data` into the batch, throwing RecordError when it is bad (the batch
 * is then unchanged). May return a continuation when a large record filled the batch part-way.
 */
export type RecordCodec = (data: string, batch: OtlpBatch, ctx: RecordContext) => Continuation | undefined | Promise<Continuation | undefined>;

export const RECORD_CODECS: Readonly<Record<Signal, RecordCodec>> = {
  metrics(data, batch, ctx) {
    appendMetricStreamRecord(decodeBase64(data), batch, ctx);
    return undefined;
  },
  async logs(data, batch, ctx) {
    const bytes = decodeBase64(data);
    if (bytes.length === 0) return undefined;
    // The batch is written only after the record parsed: a bad record leaves nothing behind.
    const messages = await parseCloudWatchLogsRecord(bytes, ctx.maxRecordBytes);
    return appendCloudWatchLogs(messages, batch, ctx);
  },
};
