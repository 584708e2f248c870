import protobuf from 'protobufjs';
import { compressSync } from 'snappy';
import { readMetricsRequest } from './metrics-reader.ts';
import { resourceLabels, writeOtelMetric } from './otel-to-prometheus.ts';
import { type PromSeries, SeriesSet } from './prometheus-series.ts';
import { writeYaceSummary } from './yace-names.ts';

export type MetricNaming = 'otel' | 'yace';

/** An OTLP metrics export request as Prometheus series, named by `naming` (metric-stream summaries only for `yace`). */
export function toSeries(payload: Uint8Array, naming: MetricNaming): SeriesSet {
  const set = new SeriesSet();
  for (const resource of readMetricsRequest(payload)) {
    const base = resourceLabels(resource.attributes);
    for (const metric of resource.metrics) {
      if (naming === 'yace' && metric.kind === 'summary' && writeYaceSummary(set, metric, resource.attributes)) continue;
      writeOtelMetric(set, metric, base);
    }
  }
  return set;
}

/**
 * A remote-write 1.0 `WriteRequest` (prometheus/prompb: `timeseries = 1`; TimeSeries `labels = 1`, `samples = 2`;
 * Label `name = 1`, `value = 2`; Sample `double value = 1`, `int64 timestamp = 2`), protobuf-encoded.
 */
export function encodeWriteRequest(series: Iterable<PromSeries>): Uint8Array {
  const w = protobuf.Writer.create();
  for (const s of series) {
    w.uint32((1 << 3) | 2).fork();
    for (const [name, value] of s.labels)
      w.uint32((1 << 3) | 2)
        .fork()
        .uint32((1 << 3) | 2)
        .string(name)
        .uint32((2 << 3) | 2)
        .string(value)
        .ldelim();
    for (const { value, timestampMs } of s.samples)
      w.uint32((2 << 3) | 2)
        .fork()
        .uint32((1 << 3) | 1)
        .double(value)
        .uint32(2 << 3)
        .int64(timestampMs)
        .ldelim();
    w.ldelim();
  }
  return w.finish();
}

/** The body of a remote-write request: the WriteRequest, snappy-compressed (block format, as the protocol says). */
export function remoteWriteBody(series: SeriesSet): Uint8Array {
  return compressSync(Buffer.from(encodeWriteRequest(series.series())));
}
