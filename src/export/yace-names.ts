import { memo, NO_RECORDED_VALUE } from './otel-to-prometheus.ts';
import type { MetricData } from './metrics-reader.ts';
import type { SeriesSet } from './prometheus-series.ts';

/*
 * YACE's (yet-another-cloudwatch-exporter) names, rule for rule as its pkg/promutil writes them (PromString,
 * sanitize, BuildMetricName, the info series' and data points' labels), so its dashboards and alerts keep working.
 */

/** Characters PromString and sanitize turn into `_` (`%` becomes `_percent`). */
const SEPARATORS = new Set([' ', ',', '\t', '/', '\\', '.', '-', ':', '=', '@', '<', '>', '(', ')', '\u201c']);
const UPPER = /^\p{Lu}$/u;
const LOWER_OR_DIGIT = /^[\p{Ll}\p{Nd}]$/u;

/** YACE's PromString: snake_case (`FreeableMemory` → `freeable_memory`, `CPUUtilization` → `cpuutilization`). */
export function promString(text: string): string {
  let out = '';
  let prev = '';
  for (const c of text) {
    if (SEPARATORS.has(c)) out += '_';
    else if (c === '%') out += '_percent';
    else {
      if (UPPER.test(c) && LOWER_OR_DIGIT.test(prev)) out += '_';
      out += c.toLowerCase();
    }
    prev = c;
  }
  return out;
}

/** YACE's label-name sanitizing (labelsSnakeCase off, its default): separators → `_`, `%` → `_percent`, case kept. */
export function yaceLabelName(text: string): string {
  let out = '';
  for (const c of text) out += SEPARATORS.has(c) ? '_' : c === '%' ? '_percent' : c;
  return out;
}

const VALID_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * YACE's BuildMetricName: `aws_` (unless the namespace starts with `aws` already), the namespace lowercased and
 * snake-cased without a leading `/`, the metric name without a prefix that repeats a part of the namespace
 * (`AWS/Glue` `glue.driver…` → `aws_glue_driver_…`), then `_<statistic>`.
 */
export function yaceMetricName(namespace: string, metricName: string, statistic: string): string {
  const ns = promString((namespace.startsWith('/') ? namespace.slice(1) : namespace).toLowerCase());
  let name = promString(metricName);
  // As YACE does: the skip is the length of the last part that matched, not a sum.
  let skip = 0;
  for (const part of ns.split('_')) if (name.slice(skip).startsWith(part)) skip = part.length;
  name = name.slice(skip);
  if (name.startsWith('_')) name = name.slice(1);
  const base = `${ns.startsWith('aws') ? '' : 'aws_'}${ns}_${name}`;
  return statistic === '' ? base : `${base}_${promString(statistic)}`;
}

const yaceMetricPrefix = memo((namespaceAndMetric) => {
  const [namespace, metric] = namespaceAndMetric.split('\u0000') as [string, string];
  return yaceMetricName(namespace, metric, '');
});
const statisticSuffix = memo(promString);
/** `<prefix>_<statistic>`, by prefix then statistic (each made once; the cache starts again past 10,000 prefixes). */
const seriesNames = new Map<string, Map<string, string>>();
function seriesName(prefix: string, statistic: string): string {
  let byStatistic = seriesNames.get(prefix);
  if (byStatistic === undefined) {
    if (seriesNames.size >= 10_000) seriesNames.clear();
    seriesNames.set(prefix, (byStatistic = new Map()));
  }
  let name = byStatistic.get(statistic);
  if (name === undefined) byStatistic.set(statistic, (name = `${prefix}_${statisticSuffix(statistic)}`));
  return name;
}
const quantileStatistics = new Map<number, string>();
function quantileName(quantile: number): string {
  let name = quantileStatistics.get(quantile);
  if (name === undefined) {
    if (quantileStatistics.size >= 10_000) quantileStatistics.clear();
    quantileStatistics.set(quantile, (name = quantileStatistic(quantile)));
  }
  return name;
}

/** A quantile a metric stream sends → the statistic YACE names: 0 → Minimum, 1 → Maximum, 0.999 → p99.9. */
export function quantileStatistic(quantile: number): string {
  if (quantile === 0) return 'Minimum';
  if (quantile === 1) return 'Maximum';
  return `p${Number((quantile * 100).toFixed(2))}`;
}

/** Attributes firetap or CloudWatch put on a point that are no dimension: enrichment's are OpenTelemetry names. */
const NOT_A_DIMENSION = /^(Namespace|MetricName)$|^[a-z][a-z0-9_]*\./;
const COLLISION_PREFIX = 'Dimensions.';
const TAG_PREFIX = 'aws.tag.';

/** `amazonaws.com/<Namespace>/<MetricName>` as Metric Streams name a metric (the namespace may hold `/`). */
function cloudWatchIdentity(metricName: string, point: Readonly<Record<string, string>>): { namespace: string; metric: string } | undefined {
  if (point.Namespace && point.MetricName) return { namespace: point.Namespace, metric: point.MetricName };
  const match = /^amazonaws\.com\/(.+)\/([^/]+)$/.exec(metricName);
  return match ? { namespace: match[1]!, metric: match[2]! } : undefined;
}

/**
 * Writes a metric-stream Summary as YACE's series, one per statistic (`_average`, `_maximum`, `_minimum`, `_sum`,
 * `_sample_count`, `_p99`…), labelled `name` (the resource's ARN, else `global`), `dimension_<Name>`, `region`,
 * `account_id` and `tag_<key>`, at the CloudWatch timestamp; and, for a known resource, `aws_<namespace>_info` = 0
 * with its tags. Returns false, writing nothing, for a metric that is not a CloudWatch one.
 */
export function writeYaceSummary(set: SeriesSet, metric: MetricData, resource: Readonly<Record<string, string>>): boolean {
  const points = metric.points;
  if (!cloudWatchIdentity(metric.name, points[0]?.attributes ?? {})) return false;
  const context: Record<string, string> = {};
  if (resource['cloud.region']) context.region = resource['cloud.region'];
  if (resource['cloud.account.id']) context.account_id = resource['cloud.account.id'];
  const resourceTags: Record<string, string> = {};
  for (const key of Object.keys(resource)) if (key.startsWith(TAG_PREFIX)) putValid(resourceTags, tagLabel(key), resource[key]!);
  for (const p of points) {
    if ((p.flags & NO_RECORDED_VALUE) !== 0) continue;
    const attributes = p.attributes;
    const id = cloudWatchIdentity(metric.name, attributes);
    if (!id) continue;
    const tags: Record<string, string> = { ...resourceTags };
    const dimensions: Record<string, string> = {};
    for (const key of Object.keys(attributes)) {
      if (key.startsWith(TAG_PREFIX)) putValid(tags, tagLabel(key), attributes[key]!);
      else if (isDimension(key)) putValid(dimensions, dimensionLabel(key), attributes[key]!);
    }
    const arn = attributes['cloud.resource_id'] ?? resource['cloud.resource_id'];
    const labels = set.labels({ ...dimensions, ...tags, ...context, name: arn ?? 'global' });
    const at = p.timeMs;
    const sum = p.sum ?? 0;
    const prefix = yaceMetricPrefix(`${id.namespace}\u0000${id.metric}`);
    const add = (statistic: string, value: number) => set.add(seriesName(prefix, statistic), labels, value, at);
    add('Sum', sum);
    add('SampleCount', p.count);
    if (p.count > 0) add('Average', sum / p.count);
    for (const q of p.quantiles) add(quantileName(q.quantile), q.value);
    if (arn) set.add(infoName(id.namespace), set.labels({ ...tags, ...context, name: arn }), 0, at);
  }
  return true;
}

const infoName = memo((namespace) => yaceMetricName(namespace, 'info', ''));
const tagLabel = memo((key) => `tag_${yaceLabelName(key.slice(TAG_PREFIX.length))}`);
const dimensionLabel = memo((key) => `dimension_${yaceLabelName(key.startsWith(COLLISION_PREFIX) ? key.slice(COLLISION_PREFIX.length) : key)}`);
const dimensionKeys = new Map<string, boolean>();
function isDimension(key: string): boolean {
  let yes = dimensionKeys.get(key);
  if (yes === undefined) {
    if (dimensionKeys.size >= 10_000) dimensionKeys.clear();
    dimensionKeys.set(key, (yes = key.startsWith(COLLISION_PREFIX) || !NOT_A_DIMENSION.test(key)));
  }
  return yes;
}

function putValid(labels: Record<string, string>, name: string, value: string): void {
  // YACE skips (and warns about) a tag or dimension whose name is no valid label name.
  if (VALID_LABEL.test(name)) labels[name] = value;
}
