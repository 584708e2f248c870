import { performance } from 'node:perf_hooks';
import type { Signal } from '../config/schema.ts';
import { FiretapError } from '../errors.ts';
import type { ExportResult, Exporter } from '../export/exporter.ts';
import type { Metrics } from '../telemetry/metrics.ts';

/**
 * One request's exports: at most `concurrency` in flight at once, each counted the same way (in flight, by
 * outcome, its duration, the items exported), and the first failure kept — once set, the request fails with it.
 */
export class ExportWindow {
  failure: FiretapError | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly metrics: Metrics;
  private readonly deadline: number;
  private readonly concurrency: number;
  private readonly route: string | undefined;

  constructor(metrics: Metrics, deadline: number, concurrency: number, route?: string) {
    this.metrics = metrics;
    this.deadline = deadline;
    this.concurrency = concurrency;
    this.route = route;
  }

  /**
   * Sends one payload and counts it; resolves to the result. Not bounded: start() bounds what runs beside others.
   * `batchKey` names a batch that a retry of the request would send again (a fan-out then skips the exporters that took it).
   */
  async export(exporter: Exporter, signal: Signal, payload: Uint8Array, items: number, batchKey?: string): Promise<ExportResult> {
    const { metrics } = this;
    const started = performance.now();
    metrics.exportsInFlight.inc();
    const result = await exporter
      .export({
        signal,
        payload,
        items,
        deadline: this.deadline,
        ...(batchKey === undefined ? {} : { batchKey }),
        ...(this.route === undefined ? {} : { route: this.route }),
      })
      .finally(() => metrics.exportsInFlight.dec());
    metrics.exports.inc({ signal, outcome: result.status });
    metrics.exportDuration.observe({ signal, outcome: result.status }, (performance.now() - started) / 1000);
    if (result.status === 'success') metrics.items.inc({ signal, stage: 'exported' }, items);
    return result;
  }

  /** Keeps `error` unless an earlier failure was kept. */
  fail(error: FiretapError): void {
    this.failure ??= error;
  }

  /**
   * Lets `sending` run beside the others and resolves once fewer than `concurrency` are in flight. A throw
   * (a bug, not a backend's answer) is kept as a retryable failure.
   */
  async start(sending: Promise<void>): Promise<void> {
    const { inFlight } = this;
    const kept = sending.catch((err: unknown) => {
      this.fail(new FiretapError('FIRETAP_INTERNAL', `export failed unexpectedly: ${(err as Error).message}`, { retryable: true, cause: err }));
    });
    inFlight.add(kept);
    void kept.finally(() => inFlight.delete(kept));
    while (inFlight.size >= this.concurrency) await Promise.race(inFlight);
  }

  /** Resolves once every export started has settled. */
  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}
