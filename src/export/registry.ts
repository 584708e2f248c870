import type { Writable } from 'node:stream';
import type { Config, Signal } from '../config/schema.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { VERSION } from '../version.ts';
import { createConcurrencyLimit } from './concurrency-limit.ts';
import { createDebugExporter } from './debug.ts';
import type { Exporter } from './exporter.ts';
import { createJsonPostExporter } from './json-post.ts';
import { createOtlpHttpExporter } from './otlp-http.ts';
import { createRetryingExporter, type RetryOptions } from './retrying.ts';

export interface ExporterOptions {
  /** Where the debug exporter writes; stdout unless a test says otherwise. */
  readonly debugOutput?: Writable;
  readonly retry?: RetryOptions;
}

/**
 * One exporter per signal: OTLP/HTTP when an endpoint is configured (each attempt within the shared
 * in-flight limit, retried with backoff until the request's deadline), the debug exporter otherwise.
 */
export function createExporters(config: Config, metrics: Metrics, options: ExporterOptions = {}): Record<Signal, Exporter> {
  const limit = createConcurrencyLimit(config.export.maxInFlight);
  const build = (signal: Signal): Exporter => {
    const c = config.otlp[signal];
    if (c.endpoint === undefined) return createDebugExporter(options.debugOutput);
    const http = createOtlpHttpExporter({ signal, config: { ...c, endpoint: c.endpoint }, userAgent: `firetap/${VERSION}` });
    return createRetryingExporter(limit.wrap(http), {
      ...options.retry,
      onRetry: (request, result, delayMs) => {
        metrics.exportRetries.inc({ signal });
        options.retry?.onRetry?.(request, result, delayMs);
      },
    });
  };
  return { metrics: build('metrics'), logs: build('logs') };
}

/** The billing endpoint meter records are POSTed to (as a JSON array), retried like an OTLP export; none when unset. */
export function createMeterEndpoint(config: Config, metrics: Metrics, options: ExporterOptions = {}): Exporter | undefined {
  const { endpoint, headers, timeoutMs } = config.meters;
  if (!endpoint) return undefined;
  const http = createJsonPostExporter({ name: 'meter endpoint', endpoint, headers, timeoutMs, userAgent: `firetap/${VERSION}` });
  return createRetryingExporter(http, {
    ...options.retry,
    onRetry: () => metrics.exportRetries.inc({ signal: 'meters' }),
  });
}
