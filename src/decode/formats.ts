/** The record formats of each route, as `?format=` and FIRETAP_*_FORMAT name them. */

/** CloudWatch Metric Streams output formats firetap reads (`?format=` on the metrics route). */
export const METRIC_FORMATS = ['auto', 'opentelemetry1.0', 'opentelemetry0.7', 'json'] as const;
export type MetricFormat = (typeof METRIC_FORMATS)[number];

/**
 * Record formats of the logs route (`?format=`): `auto` reads CloudWatch Logs subscription records as
 * such and anything else as raw lines (WAF and VPC flow logs recognised); `cloudwatch-logs` refuses what
 * is not a subscription record; the others read every record raw (see RawFormat).
 */
export const LOG_FORMATS = ['auto', 'cloudwatch-logs', 'lines', 'record', 'vpc-flow-logs', 'waf'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What a route told a format expects, for messages that say what records could not be read as. */
export function formatDescription(signal: 'metrics' | 'logs', format: MetricFormat | LogFormat): string {
  if (signal === 'metrics') {
    if (format === 'json') return 'CloudWatch Metric Streams JSON';
    if (format === 'opentelemetry1.0') return 'CloudWatch Metric Streams OpenTelemetry 1.0';
    if (format === 'opentelemetry0.7') return 'CloudWatch Metric Streams OpenTelemetry 0.7.0';
    return 'CloudWatch Metric Streams (OpenTelemetry 1.0, 0.7.0 or JSON)';
  }
  return format === 'cloudwatch-logs' ? 'CloudWatch Logs subscription' : format === 'auto' ? 'CloudWatch Logs subscription or raw log' : `${format} log`;
}
