import type { Enrichment } from '../enrich/enrichment.ts';
import type { EnrichmentStats } from '../enrich/enrichment-stats.ts';
import type { MemoryShare } from '../memory/memory-budget.ts';
import type { OtlpBatch } from '../otlp/batch.ts';
import type { LogGroup } from '../otlp/log-records.ts';
import type { EncodedAttribute } from '../otlp/wire.ts';
import type { LogOptions } from './log-options.ts';
import type { MeterCollector } from './meter-records.ts';

/** What one route's records are decoded with: the metric codecs read only these (a decode thread builds just this). */
export interface MetricRecordContext {
  readonly resourceAttributes: readonly EncodedAttribute[];
  readonly enrichment: Enrichment | undefined;
  readonly stats: EnrichmentStats;
  /** Where the attributes of known AWS resources go (FIRETAP_ENRICHMENT_ATTRIBUTES_ON). */
  readonly attributesOn: 'datapoint' | 'resource';
  /** The format the route was told (`?format=` or FIRETAP_METRICS_FORMAT): `auto` detects per record. */
  readonly metricFormat: string;
}

/** What the log codecs read; derived metrics are written as the metric codecs write, hence the metric fields. */
export interface LogRecordContext extends Omit<MetricRecordContext, 'metricFormat'> {
  readonly region: string | undefined;
  /** Account of the delivery stream, from X-Amz-Firehose-Source-Arn. */
  readonly account: string | undefined;
  readonly observedAtMs: number;
  readonly maxBatchBytes: number;
  readonly maxRecordBytes: number;
  /** The request's share of the memory budget that gunzipped records are taken from. */
  readonly memory?: MemoryShare | undefined;
  /** The format the route was told (`?format=` or FIRETAP_LOGS_FORMAT): `auto` detects per record. */
  readonly logFormat: string;
  readonly logs: LogOptions;
  /** Where metrics read out of log events go (none while records are retried alone). */
  readonly derived: OtlpBatch | undefined;
  /** Collects the meter records of log lines (when on). */
  readonly meterRecords: MeterCollector | undefined;
  /** Where spans found on the logs route go, for the traces exporter (none while records are retried alone). */
  readonly spans: OtlpBatch | undefined;
}

interface FormatEntry<S extends 'metrics' | 'logs', N extends string> {
  /** As `?format=` and FIRETAP_*_FORMAT name it. */
  readonly name: N;
  readonly signal: S;
  /** What records of the format are, as in "could not be decoded as <description> data". */
  readonly description: string;
  /** Recognises a record of the format: `auto` tries the formats that have one, in the registry's order. */
  readonly detect?: ((bytes: Buffer) => boolean) | undefined;
  /** The `auto` entries only: what a record no format detected is read as (its decode does that). */
  readonly otherwise?: string | undefined;
}

/** A metric stream output format: decode writes one record into the batch, or throws RecordError leaving it unchanged. */
export interface MetricRecordFormat<N extends string = string> extends FormatEntry<'metrics', N> {
  /** Run only when the route names this format: refuses by name a record of another format it would misread. */
  readonly screen?: ((bytes: Buffer) => void) | undefined;
  readonly decode: (bytes: Buffer, batch: OtlpBatch, ctx: MetricRecordContext) => void;
}

/** A logs route format: decode reads one record (gunzipped once already) into log groups, or throws RecordError. */
export interface LogRecordFormat<N extends string = string> extends FormatEntry<'logs', N> {
  /** Forwards whatever a record holds: a metric stream record is not refused as sent to the wrong route. */
  readonly raw: boolean;
  readonly decode: (plain: Buffer, ctx: LogRecordContext) => LogGroup[];
}

export type RecordFormat = MetricRecordFormat | LogRecordFormat;
