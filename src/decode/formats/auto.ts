import { rawLogGroups } from '../raw-logs.ts';
import type { LogRecordFormat, MetricRecordFormat } from '../record-format.ts';
import { OPENTELEMETRY_1 } from './opentelemetry-1.ts';

/** `auto` on the metrics route: a record no format detected is read as OpenTelemetry 1.0 (what CloudWatch writes by default). */
export const METRICS_AUTO: MetricRecordFormat<'auto'> = {
  name: 'auto',
  signal: 'metrics',
  description: 'CloudWatch Metric Streams (OpenTelemetry 1.0, 0.7.0 or JSON)',
  otherwise: '`opentelemetry1.0`',
  decode: OPENTELEMETRY_1.decode,
};

/**
 * `auto` on the logs route: a record no format detected is read as raw lines, each line recognised on its own
 * (a WAF log, else a flow log in the configured format, else verbatim: raw-logs.ts), a metric stream record refused.
 */
export const LOGS_AUTO: LogRecordFormat<'auto'> = {
  name: 'auto',
  signal: 'logs',
  description: 'CloudWatch Logs subscription or raw log',
  otherwise: 'raw lines, each a WAF log, a VPC flow log or verbatim',
  raw: false,
  decode: (plain, ctx) => rawLogGroups(plain, 'auto', ctx),
};
