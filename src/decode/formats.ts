/** The record formats of each route, as `?format=` and FIRETAP_*_FORMAT name them. */

import { LOGS_AUTO, METRICS_AUTO } from './formats/auto.ts';
import { AWS_SPANS } from './formats/aws-spans.ts';
import { CLOUDWATCH_LOGS } from './formats/cloudwatch-logs.ts';
import { LINES } from './formats/lines.ts';
import { METRIC_STREAM_JSON } from './formats/metric-stream-json.ts';
import { OPENTELEMETRY_0_7 } from './formats/opentelemetry-0-7.ts';
import { OPENTELEMETRY_1 } from './formats/opentelemetry-1.ts';
import { RECORD } from './formats/record.ts';
import { VPC_FLOW_LOGS } from './formats/vpc-flow-logs.ts';
import { WAF } from './formats/waf.ts';
import type { LogRecordFormat, MetricRecordFormat, RecordFormat } from './record-format.ts';

/**
 * The registry: every record format, one file each in formats/. Per signal, `auto` tries the `detect` of its
 * formats in this order and hands what none recognised to the signal's `auto` entry; a format without
 * `detect` is read only when a route names it. The settings' enums, `?format=` and the chart derive from it.
 */
export const RECORD_FORMATS = [
  METRICS_AUTO,
  OPENTELEMETRY_1,
  METRIC_STREAM_JSON,
  OPENTELEMETRY_0_7,
  LOGS_AUTO,
  AWS_SPANS,
  CLOUDWATCH_LOGS,
  LINES,
  RECORD,
  VPC_FLOW_LOGS,
  WAF,
] as const satisfies readonly RecordFormat[];

type Entry = (typeof RECORD_FORMATS)[number];
export type MetricFormat = Extract<Entry, { signal: 'metrics' }>['name'];
export type LogFormat = Extract<Entry, { signal: 'logs' }>['name'];

const METRIC_RECORD_FORMATS: readonly MetricRecordFormat[] = RECORD_FORMATS.filter((f) => f.signal === 'metrics');
const LOG_RECORD_FORMATS: readonly LogRecordFormat[] = RECORD_FORMATS.filter((f) => f.signal === 'logs');

/** CloudWatch Metric Streams output formats firetap reads (`?format=` on the metrics route). */
export const METRIC_FORMATS = METRIC_RECORD_FORMATS.map((f) => f.name) as readonly string[] as readonly [MetricFormat, ...MetricFormat[]];
/** Record formats of the logs route (`?format=`). */
export const LOG_FORMATS = LOG_RECORD_FORMATS.map((f) => f.name) as readonly string[] as readonly [LogFormat, ...LogFormat[]];

const METRIC_BY_NAME = new Map(METRIC_RECORD_FORMATS.map((f) => [f.name, f]));
const LOG_BY_NAME = new Map(LOG_RECORD_FORMATS.map((f) => [f.name, f]));
const METRIC_DETECTORS = METRIC_RECORD_FORMATS.filter((f) => f.detect);
const LOG_DETECTORS = LOG_RECORD_FORMATS.filter((f) => f.detect);

function known<F>(format: F | undefined, signal: string, name: string): F {
  if (!format) throw new Error(`no ${signal} record format "${name}" in the registry (src/decode/formats.ts)`);
  return format;
}

/** The metrics format of that name (a name ?format= and the config checked against METRIC_FORMATS). */
export const metricRecordFormat = (name: string): MetricRecordFormat => known(METRIC_BY_NAME.get(name), 'metrics', name);
export const logRecordFormat = (name: string): LogRecordFormat => known(LOG_BY_NAME.get(name), 'logs', name);

/** What `auto` reads a metric record as: the first format that detects it, else the metrics `auto` entry. */
export function detectMetricFormat(bytes: Buffer): MetricRecordFormat {
  for (let i = 0; i < METRIC_DETECTORS.length; i++) if (METRIC_DETECTORS[i]!.detect!(bytes)) return METRIC_DETECTORS[i]!;
  return METRICS_AUTO;
}

/** What `auto` reads a log record (gunzipped once) as: the first format that detects it, else the logs `auto` entry. */
export function detectLogFormat(plain: Buffer): LogRecordFormat {
  for (let i = 0; i < LOG_DETECTORS.length; i++) if (LOG_DETECTORS[i]!.detect!(plain)) return LOG_DETECTORS[i]!;
  return LOGS_AUTO;
}

/** What a route told a format expects, for messages that say what records could not be read as (the traces route: spans). */
export function formatDescription(signal: 'metrics' | 'logs' | 'traces', format: MetricFormat | LogFormat): string {
  if (signal === 'traces') return AWS_SPANS.description;
  return (signal === 'metrics' ? metricRecordFormat(format) : logRecordFormat(format)).description;
}

/** The registry as the Markdown table of docs/formats.md (between its formats:begin/end markers). */
export function formatsTable(): string {
  const rows = RECORD_FORMATS.map((f) => {
    const detected = f.otherwise ? `tries the formats marked yes, in this order; otherwise ${f.otherwise}` : f.detect ? 'yes' : 'no';
    return `| \`${f.name}\` | ${f.signal} | ${f.description} | ${detected} |`;
  });
  return ['| `?format=` | Signal | Records | Detected by `auto` |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
