import type { MetricData } from './metrics-reader.ts';
import { byName, type LabelSet, type SeriesSet } from './prometheus-series.ts';

const CUMULATIVE = 2;
/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point carries no value. */
export const NO_RECORDED_VALUE = 1;

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

const sumName = memo((name) => `${name}_sum`);
const countName = memo((name) => `${name}_count`);
const bucketName = memo((name) => `${name}_bucket`);
const totalName = memo((name) => (name.endsWith('_total') ? name : `${name}_total`));

/** A quantile or bucket bound as its label value prints it, worked out once per number. */
export function numberLabel(n: number): string {
  let text = numberLabels.get(n);
  if (text === undefined) {
    if (numberLabels.size >= 10_000) numberLabels.clear();
    numberLabels.set(n, (text = String(n)));
  }
  return text;
}
const numberLabels = new Map<number, string>();

/**
 * The labels of a resource's data points: its attributes, names made valid (two that become one join their values
 * with `;`), plus `job` and `instance` from `service.namespace/service.name` and `service.instance.id` when it has them.
 */
export function resourceLabels(resource: Readonly<Record<string, string>>): Record<string, string> {
  const labels = withLabels({}, resource);
  const service = resource['service.name'];
  if (service) labels.job = resource['service.namespace'] ? `${resource['service.namespace']}/${service}` : service;
  if (resource['service.instance.id']) labels.instance = resource['service.instance.id'];
  return labels;
}

/** `base` with a data point's attributes added as labels (a point's attribute wins over the resource's). */
export function withLabels(base: Readonly<Record<string, string>>, attributes: Readonly<Record<string, string>>): Record<string, string> {
  const labels: Record<string, string> = { ...base };
  // Only a key that had to change can meet another: the names written are kept from the first such key on.
  const keys = Object.keys(attributes);
  let seen: Set<string> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const name = prometheusLabelName(key);
    const value = attributes[key]!;
    if (name !== key) seen ??= new Set(keys.slice(0, i));
    labels[name] = seen?.has(name) && labels[name] ? `${labels[name]};${value}` : value;
    seen?.add(name);
  }
  return labels;
}

/** A resource's labels: as a record, and as pairs sorted by name (empty values and `__name__` among them). */
export interface BaseLabels {
  readonly record: Readonly<Record<string, string>>;
  readonly sorted: ReadonlyArray<readonly [string, string]>;
}

export function baseLabels(record: Readonly<Record<string, string>>): BaseLabels {
  return {
    record,
    sorted: Object.keys(record)
      .map((name): readonly [string, string] => [name, record[name]!])
      .sort(byName),
  };
}

/**
 * A point's LabelSet, as `withLabels` makes it: when no attribute key has to change (so none can meet another), by
 * merging its few attributes, sorted, into the resource's sorted pairs, the attribute winning.
 */
function pointLabels(set: SeriesSet, base: BaseLabels, attributes: Readonly<Record<string, string>>): LabelSet {
  const own: Array<readonly [string, string]> = [];
  for (const key of Object.keys(attributes)) {
    if (prometheusLabelName(key) !== key) return set.labels(withLabels(base.record, attributes));
    own.push([key, attributes[key]!]);
  }
  own.sort(byName);
  const b = base.sorted;
  const merged: Array<readonly [string, string]> = [];
  let i = 0;
  let j = 0;
  while (i < b.length || j < own.length) {
    let pair: readonly [string, string];
    if (j >= own.length || (i < b.length && b[i]![0] < own[j]![0])) pair = b[i++]!;
    else {
      if (i < b.length && b[i]![0] === own[j]![0]) i++;
      pair = own[j++]!;
    }
    if (pair[1] !== '' && pair[0] !== '__name__') merged.push(pair);
  }
  return set.sortedLabels(merged);
}

/**
 * Writes one OTLP metric as Prometheus series, by the OpenTelemetry → Prometheus rules: a gauge and a non-monotonic
 * or delta sum as one gauge series (a delta: the interval's value), a cumulative monotonic sum as `<name>_total`, a
 * summary as `<name>{quantile}`, `<name>_sum`, `<name>_count`, a histogram as cumulative `<name>_bucket{le}`,
 * `_sum`, `_count`, an exponential histogram as `_sum` and `_count` only. A point without a recorded value is skipped.
 */
export function writeOtelMetric(set: SeriesSet, metric: MetricData, base: BaseLabels): void {
  const name = prometheusMetricName(metric.name);
  const counter = metric.kind === 'sum' && metric.monotonic && metric.temporality === CUMULATIVE;
  const series = counter ? totalName(name) : name;
  for (const p of metric.points) {
    if ((p.flags & NO_RECORDED_VALUE) !== 0) continue;
    const labels = pointLabels(set, base, p.attributes);
    const at = p.timeMs;
    switch (metric.kind) {
      case 'gauge':
      case 'sum':
        set.add(series, labels, p.value, at);
        break;
      case 'summary':
        for (const q of p.quantiles) set.add(name, labels, q.value, at, 'quantile', numberLabel(q.quantile));
        set.add(sumName(name), labels, p.sum ?? 0, at);
        set.add(countName(name), labels, p.count, at);
        break;
      case 'histogram': {
        let cumulative = 0;
        p.bounds.forEach((bound, i) => {
          cumulative += p.bucketCounts[i] ?? 0;
          set.add(bucketName(name), labels, cumulative, at, 'le', numberLabel(bound));
        });
        set.add(bucketName(name), labels, p.count, at, 'le', '+Inf');
        if (p.sum !== undefined) set.add(sumName(name), labels, p.sum, at);
        set.add(countName(name), labels, p.count, at);
        break;
      }
      case 'exponentialHistogram':
        if (p.sum !== undefined) set.add(sumName(name), labels, p.sum, at);
        set.add(countName(name), labels, p.count, at);
        break;
    }
  }
}
