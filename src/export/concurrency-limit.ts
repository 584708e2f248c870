import type { ExportRequest, ExportResult, Exporter } from './exporter.ts';

export interface ConcurrencyLimit {
  /** Exports being sent now, across every exporter wrapped by this limit. */
  inFlight(): number;
  wrap(inner: Exporter): Exporter;
}

/**
 * Bounds the exports in flight across the whole process (both signals share one limit). An export
 * that finds every slot taken waits its turn, first come first served, until its deadline, then fails
 * as retryable so that Firehose tries again later: memory and backend load stay bounded however many
 * requests arrive.
 */
export function createConcurrencyLimit(limit: number): ConcurrencyLimit {
  let active = 0;
  const waiting: Array<() => void> = [];

  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };

  const acquire = (deadline: number): Promise<boolean> => {
    if (active < limit) {
      active++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(
        () => {
          const i = waiting.indexOf(grant);
          if (i >= 0) waiting.splice(i, 1);
          resolve(false);
        },
        Math.max(0, deadline - Date.now()),
      );
      timer.unref();
      waiting.push(grant);
    });
  };

  return {
    inFlight: () => active,
    wrap(inner: Exporter): Exporter {
      return {
        async export(request: ExportRequest): Promise<ExportResult> {
          if (!(await acquire(request.deadline))) {
            return { status: 'retryable', message: `all ${limit} export slots stayed busy until the delivery deadline (FIRETAP_EXPORT_MAX_IN_FLIGHT)` };
          }
          try {
            return await inner.export(request);
          } finally {
            release();
          }
        },
        shutdown: () => inner.shutdown(),
      };
    },
  };
}
