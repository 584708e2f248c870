import { attributeMap, type LabelSet, millis, noRecordedValue, type Otlp, type SeriesSet } from './prometheus-series.ts';

const CUMULATIVE = 2;

/** A metric name Prometheus accepts: other characters become `_` (runs of them one), no leading digit. */
export const prometheusMetricName = memo((name: string): string => {
  const clean = name.replace(/[^a-zA-Z0-9_:]+/g, '_');
  return /^[0-9]/.test(clean) ? `_${clean}` : clean;
});

/** A label name Prometheus accepts: other characters become `_`, a leading digit gets `key_` before it. */
export const prometheusLabelName = memo((key: string): string => {
  const clean = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(clean) ? `key_${clean}` : clean;
});

/** Names repeat from point to point: each is worked out once (the cache starts again past 10,000). */
export function memo(f: (text: string) => string): (text: string) => string {
  const cache = new Map<string, string>();
  return (text) => {
    let out = cache.get(text);
    if (out === undefined) {
      if (cache.size >= 10_000) cache.clear();
      cache.set(text, (out = f(text)));
    }
    return out;
  };
}

/**
 * The labels of a data point: the resource's attributes, then the point's (which win), names made valid (two that
 * become one join their values with `;`), plus `job` and `instance` from `service.namespace/service.name` and
 * `service.instance.id` when the resource has them.
 */
export function otelLabels(resource: Readonly<Record<string, string>>, point: Readonly<Record<string, string>>): Record<string, string> {
  const labels: Record<string, string> = {};
  const put = (source: Readonly<Record<string, string>>) => {
    const seen = new Set<string>();
    for (const [key, value] of Object.entries(source)) {
      const name = prometheusLabelName(key);
      labels[name] = seen.has(name) && labels[name] ? `${labels[name]};${value}` : value;
      seen.add(name);
    }
  };
  put(resource);
  put(point);
  const service = resource['service.name'];
  if (service) labels.job = resource['service.namespace'] ? `${resource['service.namespace']}/${service}` : service;
  if (resource['service.instance.id']) labels.instance = resource['service.instance.id'];
  return labels;
}

/**
 * Writes one OTLP metric as Prometheus series, by the OpenTelemetry → Prometheus rules: a gauge and a non-monotonic
 * or delta sum as one gauge series (a delta: the interval's value), a cumulative monotonic sum as `<name>_total`, a
 * summary as `<name>{quantile}`, `<name>_sum`, `<name>_count`, a histogram as cumulative `<name>_bucket{le}`,
 * `_sum`, `_count`, an exponential histogram as `_sum` and `_count` only. A point without a recorded value is skipped.
 */
export function writeOtelMetric(set: SeriesSet, metric: Otlp, resource: Readonly<Record<string, string>>): void {
  const name = prometheusMetricName(String(metric.name ?? ''));
  const each = (points: Otlp[] | undefined, write: (labels: LabelSet, at: number, p: Otlp) => void) => {
    for (const p of points ?? []) {
      if (!noRecordedValue(p)) write(set.labels(otelLabels(resource, attributeMap(p.attributes))), millis(p.timeUnixNano), p);
    }
  };
  const numberValue = (p: Otlp) => Number(p.asDouble ?? p.asInt ?? 0);
  if (metric.gauge) each(metric.gauge.dataPoints, (labels, at, p) => set.add(name, labels, numberValue(p), at));
  else if (metric.sum) {
    const counter = metric.sum.isMonotonic === true && metric.sum.aggregationTemporality === CUMULATIVE;
    const series = counter && !name.endsWith('_total') ? `${name}_total` : name;
    each(metric.sum.dataPoints, (labels, at, p) => set.add(series, labels, numberValue(p), at));
  } else if (metric.summary) {
    each(metric.summary.dataPoints, (labels, at, p) => {
      for (const q of p.quantileValues ?? []) set.add(name, labels, Number(q.value ?? 0), at, 'quantile', String(q.quantile ?? 0));
      set.add(`${name}_sum`, labels, Number(p.sum ?? 0), at);
      set.add(`${name}_count`, labels, Number(p.count ?? 0), at);
    });
  } else if (metric.histogram) {
    each(metric.histogram.dataPoints, (labels, at, p) => {
      const bounds: number[] = p.explicitBounds ?? [];
      const counts: number[] = (p.bucketCounts ?? []).map(Number);
      let cumulative = 0;
      bounds.forEach((bound, i) => {
        cumulative += counts[i] ?? 0;
        set.add(`${name}_bucket`, labels, cumulative, at, 'le', String(bound));
      });
      set.add(`${name}_bucket`, labels, Number(p.count ?? 0), at, 'le', '+Inf');
      if (p.sum !== undefined) set.add(`${name}_sum`, labels, Number(p.sum), at);
      set.add(`${name}_count`, labels, Number(p.count ?? 0), at);
    });
  } else if (metric.exponentialHistogram) {
    each(metric.exponentialHistogram.dataPoints, (labels, at, p) => {
      if (p.sum !== undefined) set.add(`${name}_sum`, labels, Number(p.sum), at);
      set.add(`${name}_count`, labels, Number(p.count ?? 0), at);
    });
  }
}
