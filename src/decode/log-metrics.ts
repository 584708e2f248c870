import { seriesFrames, type SeriesPoint } from './log-metric-frames.ts';
import { eventIdentity, type CloudWatchLogsMessage } from './cloudwatch-logs-message.ts';
import { isJsonObject } from '../json-object.ts';

/** Metrics firetap can read out of log events (`FIRETAP_LOG_METRICS`). */
export const LOG_METRIC_KINDS = ['lambda-report', 'emf'] as const;
export type LogMetricKind = (typeof LOG_METRIC_KINDS)[number];

/** A run of values of one series: what a CloudWatch statistic set holds, added to as events are read. */
interface Series extends SeriesPoint {
  readonly dimensions: ReadonlyArray<[string, string]>;
  readonly extra: ReadonlyArray<[string, string]>;
  count: number;
  sum: number;
  min: number;
  max: number;
  firstMs: number;
  lastMs: number;
}

type SeriesName = Omit<Series, 'count' | 'sum' | 'min' | 'max' | 'firstMs' | 'lastMs'>;

/** What tells one series from another. */
const seriesKey = (s: SeriesName) => JSON.stringify([s.account, s.region, s.name, s.unit, s.dimensions, s.extra, s.kind]);

/**
 * Aggregates the values found in the log events of one record into one point per series — a Summary
 * (count, sum, min as quantile 0, max as quantile 1) or, for counts, a delta Sum — shaped as CloudWatch Metric Streams shape theirs
 * (`Namespace`, `MetricName` and a `Dimensions` kvlist as attributes, account and region on the
 * resource) so that the metric-stream rewrite — dimensions as attributes, resource tags — applies as is.
 */
export class LogMetricAggregator {
  private readonly series = new Map<string, Series>();

  add(s: SeriesName, values: readonly number[], timeMs: number, key = seriesKey(s)): void {
    if (values.length === 0) return;
    let found = this.series.get(key);
    if (!found) this.series.set(key, (found = { ...s, count: 0, sum: 0, min: Infinity, max: -Infinity, firstMs: timeMs, lastMs: timeMs }));
    for (const v of values) {
      found.count++;
      found.sum += v;
      if (v < found.min) found.min = v;
      if (v > found.max) found.max = v;
    }
    if (timeMs < found.firstMs) found.firstMs = timeMs;
    if (timeMs > found.lastMs) found.lastMs = timeMs;
  }

  get size(): number {
    return this.series.size;
  }

  /** ExportMetricsServiceRequest frames (unprefixed), one per account and region. */
  frames(): Uint8Array[] {
    return seriesFrames(this.series.values());
  }
}

const LAMBDA_LOG_GROUP = /^\/aws\/lambda\/([^/]+)$/;

/** REPORT line fields → metric, in the text format and in the JSON log format's `platform.report` record. */
const REPORT_FIELDS: ReadonlyArray<{ label: string; json: string; name: string; metricName: string; unit: string }> = [
  { label: 'Duration', json: 'durationMs', name: 'aws.lambda.duration', metricName: 'Duration', unit: 'ms' },
  { label: 'Billed Duration', json: 'billedDurationMs', name: 'aws.lambda.billed_duration', metricName: 'BilledDuration', unit: 'ms' },
  { label: 'Memory Size', json: 'memorySizeMB', name: 'aws.lambda.memory_size', metricName: 'MemorySize', unit: 'MBy' },
  { label: 'Max Memory Used', json: 'maxMemoryUsedMB', name: 'aws.lambda.max_memory_used', metricName: 'MaxMemoryUsed', unit: 'MBy' },
  { label: 'Init Duration', json: 'initDurationMs', name: 'aws.lambda.init_duration', metricName: 'InitDuration', unit: 'ms' },
];

const REPORT_VALUE = /^(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration): ([0-9]+(?:\.[0-9]+)?) (?:ms|MB)$/;

/** The numbers of a Lambda REPORT line, by REPORT_FIELDS label; undefined when the message is none. */
export function parseLambdaReport(message: string): Map<string, number> | undefined {
  if (message.startsWith('REPORT RequestId:')) {
    const out = new Map<string, number>();
    for (const part of message.split('\t')) {
      const m = REPORT_VALUE.exec(part.trim());
      if (m) out.set(m[1]!, Number(m[2]));
    }
    return out.has('Duration') ? out : undefined;
  }
  if (message.startsWith('{') && message.includes('"platform.report"')) {
    let parsed: { type?: unknown; record?: { metrics?: Record<string, unknown> } };
    try {
      parsed = JSON.parse(message);
    } catch {
      return undefined;
    }
    const metrics = parsed.type === 'platform.report' ? parsed.record?.metrics : undefined;
    if (!metrics || typeof metrics !== 'object') return undefined;
    const out = new Map<string, number>();
    for (const f of REPORT_FIELDS) if (typeof metrics[f.json] === 'number' && Number.isFinite(metrics[f.json])) out.set(f.label, metrics[f.json] as number);
    return out.has('Duration') ? out : undefined;
  }
  return undefined;
}

interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: Array<{ Name: string; Unit?: string }>;
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * An Embedded Metric Format line's metrics: for each directive, each dimension set and each metric, the
 * values (a number, or an array of up to 100 numbers) and the dimension values read from the root.
 * A member that is missing or of the wrong type skips that metric or dimension set, as CloudWatch does;
 * undefined when the message is no EMF at all.
 */
export function parseEmf(
  message: string,
):
  | { timeMs: number | undefined; metrics: Array<{ namespace: string; name: string; unit: string; values: number[]; dimensions: Array<[string, string]> }> }
  | undefined {
  if (!message.startsWith('{') || !message.includes('"_aws"')) return undefined;
  let root: unknown;
  try {
    root = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!isJsonObject(root) || !isJsonObject(root._aws) || !Array.isArray(root._aws.CloudWatchMetrics)) return undefined;
  const timeMs = isFiniteNumber(root._aws.Timestamp) ? root._aws.Timestamp : undefined;
  const metrics: Array<{ namespace: string; name: string; unit: string; values: number[]; dimensions: Array<[string, string]> }> = [];
  for (const d of root._aws.CloudWatchMetrics as unknown[]) {
    if (!isJsonObject(d) || typeof d.Namespace !== 'string' || !Array.isArray(d.Metrics)) continue;
    const directive = d as unknown as EmfDirective;
    const sets = Array.isArray(directive.Dimensions) && directive.Dimensions.length > 0 ? directive.Dimensions : [[]];
    for (const m of directive.Metrics) {
      if (!isJsonObject(m) || typeof m.Name !== 'string') continue;
      const raw = root[m.Name];
      const values = isFiniteNumber(raw) ? [raw] : Array.isArray(raw) ? raw.filter(isFiniteNumber).slice(0, 100) : [];
      if (values.length === 0) continue;
      for (const set of sets) {
        if (!Array.isArray(set)) continue;
        const dimensions = set.map((name) => [name, root[name]] as [unknown, unknown]);
        if (!dimensions.every(([k, v]) => typeof k === 'string' && typeof v === 'string')) continue;
        metrics.push({
          namespace: directive.Namespace,
          name: m.Name,
          unit: typeof m.Unit === 'string' ? m.Unit : 'None',
          values,
          dimensions: dimensions as Array<[string, string]>,
        });
      }
    }
  }
  return { timeMs, metrics };
}

interface KeyedSeries {
  readonly series: SeriesName;
  readonly key: string;
}
interface ReportSeries {
  readonly fields: ReadonlyArray<KeyedSeries & { readonly label: string }>;
  readonly invocations: KeyedSeries;
  readonly coldStarts: KeyedSeries;
}

/** The series a Lambda function's REPORT lines feed: one per REPORT field, invocations and cold starts. */
function lambdaSeries(account: string, region: string | undefined, fn: string): ReportSeries {
  const keyed = (series: SeriesName) => ({ series, key: seriesKey(series) });
  const dimensions: Array<[string, string]> = [['FunctionName', fn]];
  const fnSeries = { account, region, unit: '{invocation}', namespace: 'AWS/Lambda', dimensions, extra: [], kind: 'count' as const };
  return {
    fields: REPORT_FIELDS.map((f) => ({
      label: f.label,
      ...keyed({ account, region, name: f.name, unit: f.unit, namespace: 'AWS/Lambda', metricName: f.metricName, dimensions, extra: [], kind: 'summary' }),
    })),
    invocations: keyed({ ...fnSeries, name: 'aws.lambda.invocations', metricName: 'Invocations' }),
    coldStarts: keyed({ ...fnSeries, name: 'aws.lambda.cold_starts', metricName: 'ColdStarts' }),
  };
}

/**
 * Reads the metrics of the log events of parsed subscription messages into the aggregator: Lambda REPORT
 * lines of `/aws/lambda/<function>` log groups as `aws.lambda.*` (Namespace AWS/Lambda, dimension
 * FunctionName, so that the function's tags follow), and Embedded Metric Format lines as the metrics they
 * declare, named as CloudWatch Metric Streams name them (`amazonaws.com/<Namespace>/<Name>`), with the
 * log group they came from as `aws.log.group.name` so they never merge with the streamed series.
 */
export function collectLogMetrics(
  messages: readonly CloudWatchLogsMessage[],
  region: string | undefined,
  kinds: ReadonlySet<LogMetricKind>,
  into: LogMetricAggregator,
): void {
  for (const m of messages) {
    if (m.messageType !== 'DATA_MESSAGE') continue;
    const fn = kinds.has('lambda-report') ? LAMBDA_LOG_GROUP.exec(m.logGroup)?.[1] : undefined;
    // A function's series (and their keys) are the same for each of its REPORT lines: made once per account and region.
    const reportSeries = new Map<string, ReportSeries>();
    for (const e of m.logEvents) {
      if (fn !== undefined) {
        const report = parseLambdaReport(e.message);
        if (report) {
          const [account, r] = eventIdentity(m, e, region);
          const identity = JSON.stringify([account, r ?? null]);
          let series = reportSeries.get(identity);
          if (!series) reportSeries.set(identity, (series = lambdaSeries(account, r, fn)));
          for (const f of series.fields) {
            const v = report.get(f.label);
            if (v !== undefined) into.add(f.series, [v], e.timestamp, f.key);
          }
          into.add(series.invocations.series, [1], e.timestamp, series.invocations.key);
          into.add(series.coldStarts.series, [report.has('Init Duration') ? 1 : 0], e.timestamp, series.coldStarts.key);
          continue;
        }
      }
      if (kinds.has('emf')) {
        const emf = parseEmf(e.message);
        if (!emf) continue;
        const [account, r] = eventIdentity(m, e, region);
        for (const metric of emf.metrics) {
          into.add(
            {
              account,
              region: r,
              name: `amazonaws.com/${metric.namespace}/${metric.name}`,
              unit: metric.unit,
              namespace: metric.namespace,
              metricName: metric.name,
              dimensions: metric.dimensions,
              extra: [['aws.log.group.name', m.logGroup]],
              kind: 'summary',
            },
            metric.values,
            emf.timeMs ?? e.timestamp,
          );
        }
      }
    }
  }
}
