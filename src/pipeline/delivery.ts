import type { FastifyBaseLogger } from 'fastify';
import type { Config, Signal } from '../config/schema.ts';
import type { LogFormat, MetricFormat } from '../decode/formats.ts';
import type { LogOptions } from '../decode/log-options.ts';
import type { MeterDeduplicator, SharedMeterIds } from '../decode/meter-records.ts';
import type { Enrichment } from '../enrich/enrichment.ts';
import type { Exporter } from '../export/exporter.ts';
import type { BufferPool } from '../memory/buffer-pool.ts';
import type { MemoryBudget, MemoryShare } from '../memory/memory-budget.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { DeadLetter } from './dead-letter.ts';
import type { DecodePool } from './decode-pool.ts';
import type { DeliveryLedger } from './delivery-ledger.ts';
import type { LocatedRecords } from './located-records.ts';

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
  readonly meterRecords: MeterPipeline | undefined;
  readonly decoders?: DecodePool | undefined;
  /** The budget for decoded bytes in flight (bodies, gunzipped records) that every request draws from. */
  readonly memory: MemoryBudget;
}

export interface MeterPipeline {
  readonly marker: string;
  readonly dedupe: MeterDeduplicator;
  /** The fleet's dedupe in the state store, when one is configured. */
  readonly shared?: SharedMeterIds | undefined;
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
