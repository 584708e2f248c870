import { encodeMetricsRequest, jsonNanos, jsonString } from '../otlp/schema.ts';
import { jsonLines } from './json-lines.ts';
import { RecordError } from './record-error.ts';

/**
 * CloudWatch Metric Streams in the JSON output format: one JSON object per line,
 * `{metric_stream_name, account_id, region, namespace, metric_name, dimensions, timestamp, value: {count, sum,
 * min, max, pNN…}, unit}`. Each record becomes ExportMetricsServiceRequest frames shaped exactly as the
 * OpenTelemetry 1.0 format shapes the same data (Summary points; Namespace, MetricName and the Dimensions
 * kvlist as attributes; the stream's account and region on the resource), so that the one metric-stream
 * rewrite — dimensions as attributes, tags, resource attributes — serves both formats.
 */
export function isJsonMetricRecord(record: Uint8Array): boolean {
  for (const b of record) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b; // '{' — an OpenTelemetry frame starts with a varint length instead
  }
  return false;
}

interface JsonMetric {
  metric_stream_name: string;
  account_id: string;
  region: string;
  namespace: string;
  metric_name: string;
  dimensions?: Record<string, string>;
  timestamp: number;
  value: Record<string, number>;
  unit?: string;
}

/**
 * A data point's attributes as CloudWatch Metric Streams' OpenTelemetry 1.0 format carries them: Namespace,
 * MetricName and a `Dimensions` kvlist (what the metric-stream rewrite turns into one attribute per dimension).
 */
export function cloudWatchPointAttributes(namespace: string, metricName: string, dimensions: ReadonlyArray<readonly [string, string]>): object[] {
  return [
    jsonString('Namespace', namespace),
    jsonString('MetricName', metricName),
    { key: 'Dimensions', value: { kvlistValue: { values: dimensions.map(([k, v]) => jsonString(k, v)) } } },
  ];
}

function validate(value: unknown, line: number): JsonMetric {
  const m = value as Partial<JsonMetric> | null;
  const fail = (what: string): never => {
    throw new RecordError('format', `metric-stream JSON line ${line}: ${what}`);
  };
  if (m === null || typeof m !== 'object' || Array.isArray(m)) fail('not a JSON object');
  for (const field of ['account_id', 'region', 'namespace', 'metric_name'] as const) if (typeof m![field] !== 'string') fail(`no string "${field}"`);
  if (typeof m!.timestamp !== 'number' || !Number.isFinite(m!.timestamp)) fail('no numeric "timestamp"');
  if (m!.value === null || typeof m!.value !== 'object') fail('no "value" object');
  for (const [k, v] of Object.entries(m!.value!)) if (typeof v !== 'number') fail(`value.${k} is not a number`);
  if (m!.dimensions !== undefined && (typeof m!.dimensions !== 'object' || m!.dimensions === null)) fail('"dimensions" is not an object');
  return m as JsonMetric;
}

/** Returns the record as OpenTelemetry 1.0 frames (unprefixed ExportMetricsServiceRequest bytes), one per resource. */
export function jsonMetricRecordToFrames(record: Buffer): Uint8Array[] {
  const byResource = new Map<string, { account: string; region: string; stream: string; metrics: object[] }>();
  for (const { line, value } of jsonLines(record.toString('utf8'), 'metric-stream JSON')) {
    const m = validate(value, line);
    const key = `${m.account_id}\u0000${m.region}\u0000${m.metric_stream_name ?? ''}`;
    let group = byResource.get(key);
    if (!group) byResource.set(key, (group = { account: m.account_id, region: m.region, stream: m.metric_stream_name ?? '', metrics: [] }));
    const { count, sum, min, max, ...percentiles } = m.value;
    const quantiles = Object.entries(percentiles)
      .filter(([k]) => /^p\d+(\.\d+)?$/.test(k))
      .map(([k, value]) => ({ quantile: Number(k.slice(1)) / 100, value }))
      .sort((a, b) => a.quantile - b.quantile);
    group.metrics.push({
      name: `amazonaws.com/${m.namespace}/${m.metric_name}`,
      unit: m.unit ?? '',
      summary: {
        dataPoints: [
          {
            timeUnixNano: jsonNanos(m.timestamp),
            count: String(Math.round(count ?? 0)),
            sum: sum ?? 0,
            quantileValues: [
              ...(min === undefined ? [] : [{ quantile: 0, value: min }]),
              ...quantiles,
              ...(max === undefined ? [] : [{ quantile: 1, value: max }]),
            ],
            attributes: cloudWatchPointAttributes(
              m.namespace,
              m.metric_name,
              Object.entries(m.dimensions ?? {}).map(([k, v]) => [k, String(v)] as const),
            ),
          },
        ],
      },
    });
  }
  return [...byResource.values()].map((g) => {
    const resource: Array<[string, string]> = [
      ['cloud.provider', 'aws'],
      ['cloud.account.id', g.account],
      ['cloud.region', g.region],
    ];
    if (g.stream) resource.push(['aws.cloudwatch.metric_stream_name', g.stream]);
    return encodeMetricsRequest(resource, g.metrics);
  });
}
