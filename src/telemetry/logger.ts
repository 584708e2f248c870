import type { LoggerOptions } from 'pino';

/** Header and field names whose values are secrets: never written to a log line. */
export const REDACTED_PATHS = [
  'req.headers["x-amz-firehose-access-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers["x-amz-firehose-access-key"]',
  'headers.authorization',
  'accessKeys',
  'config.accessKeys',
  'config.otlp.metrics.headers',
  'config.otlp.logs.headers',
];

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    base: { service: 'firetap' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
}
