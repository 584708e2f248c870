import { destination, type DestinationStream, type LoggerOptions } from 'pino';

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

/** Lines waiting for stdout beyond this are dropped rather than held: a stuck log reader must not exhaust memory. */
const MAX_PENDING_LOG_BYTES = 16 * 1024 * 1024;

/**
 * stdout, written asynchronously: one line per request written with a blocking write() cost the main thread
 * ~0.2 ms a request under load (~5 % of its time), and a slow reader of the pipe blocked it outright. Lines
 * that arrive while a write is under way go out together with the next one; pino flushes what is left when
 * the process exits.
 */
export function stdoutLog(): DestinationStream {
  return destination({ dest: 1, sync: false, maxLength: MAX_PENDING_LOG_BYTES });
}
