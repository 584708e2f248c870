import { setTimeout as sleep } from 'node:timers/promises';
import type { ExportRequest, ExportResult, Exporter } from './exporter.ts';

export interface RetryOptions {
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly multiplier?: number;
  /** Called before each retry, for metrics. */
  readonly onRetry?: (request: ExportRequest, result: ExportResult, delayMs: number) => void;
}

/**
 * Retries retryable failures with full-jitter exponential backoff, waiting at least what the backend
 * asked for in Retry-After, and gives up with the last failure when the next attempt could not start
 * before the request's deadline. Permanent failures are returned at once.
 */
export function createRetryingExporter(inner: Exporter, options: RetryOptions = {}): Exporter {
  const initial = options.initialBackoffMs ?? 250;
  const max = options.maxBackoffMs ?? 10_000;
  const multiplier = options.multiplier ?? 2;
  return {
    async export(request: ExportRequest): Promise<ExportResult> {
      let backoff = initial;
      for (let attempt = 1; ; attempt++) {
        const result = await inner.export(request);
        if (result.status !== 'retryable') return result;
        const jittered = Math.random() * backoff;
        const delayMs = Math.max(jittered, result.retryAfterMs ?? 0);
        // Leave the next attempt at least a little time to run, or stop here.
        if (Date.now() + delayMs + 50 >= request.deadline) {
          return { ...result, message: `${result.message} (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}: delivery deadline reached)` };
        }
        options.onRetry?.(request, result, delayMs);
        await sleep(delayMs, undefined, { ref: false });
        backoff = Math.min(max, backoff * multiplier);
      }
    },
    shutdown: () => inner.shutdown(),
  };
}
