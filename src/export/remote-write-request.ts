import { compressSync } from 'snappy';
import { eachResource } from './metrics-reader.ts';
import { baseLabels, resourceLabels, writeOtelMetric } from './otel-to-prometheus.ts';
import { SeriesSet } from './prometheus-series.ts';
import { encodeWriteRequest } from './write-request-encoder.ts';
import { writeYaceSummary } from './yace-names.ts';

export type MetricNaming = 'otel' | 'yace';

/** An OTLP metrics export request as Prometheus series, named by `naming` (metric-stream summaries only for `yace`). */
export function toSeries(payload: Uint8Array, naming: MetricNaming): SeriesSet {
  const set = new SeriesSet();
  eachResource(payload, (resource) => {
    const base = baseLabels(resourceLabels(resource.attributes));
    for (const metric of resource.metrics) {
      if (naming === 'yace' && metric.kind === 'summary' && writeYaceSummary(set, metric, resource.attributes)) continue;
      writeOtelMetric(set, metric, base);
    }
  });
  return set;
}

/** The body of a remote-write request: the WriteRequest, snappy-compressed (block format, as the protocol says). */
export function remoteWriteBody(series: SeriesSet): Uint8Array {
  return compressSync(encodeWriteRequest(series));
}
