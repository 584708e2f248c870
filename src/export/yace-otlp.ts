import { encodeMetricsRequest, jsonNanos, jsonString } from '../otlp/schema.ts';
import type { Exporter, ExportRequest } from './exporter.ts';
import { toSeries } from './remote-write-request.ts';

/**
 * An OTLP metrics request under YACE's names: each series a Gauge data point named as YACE names it, its labels
 * as attributes (region and account_id among them), so an OTLP backend shows what YACE would have.
 */
export function yaceOtlpPayload(payload: Uint8Array): { payload: Uint8Array; items: number } {
  const byName = new Map<string, object[]>();
  let items = 0;
  for (const s of toSeries(payload, 'yace').series()) {
    const name = s.labels.find(([key]) => key === '__name__')![1];
    const attributes = s.labels.filter(([key]) => key !== '__name__').map(([key, value]) => jsonString(key, value));
    let points = byName.get(name);
    if (!points) byName.set(name, (points = []));
    for (const sample of s.samples) points.push({ attributes, timeUnixNano: jsonNanos(sample.timestampMs), asDouble: sample.value });
    items += s.samples.length;
  }
  const metrics = [...byName].map(([name, dataPoints]) => ({ name, gauge: { dataPoints } }));
  return { payload: encodeMetricsRequest([], metrics, 'firetap'), items };
}

/** Gives `inner` each metrics request under YACE's names (FIRETAP_METRIC_NAMING=yace on an OTLP or debug exporter). */
export function withYaceNames(inner: Exporter): Exporter {
  return {
    export: (request: ExportRequest) => inner.export({ ...request, ...yaceOtlpPayload(request.payload) }),
    shutdown: () => inner.shutdown(),
  };
}
