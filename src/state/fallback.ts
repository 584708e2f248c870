import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../telemetry/metrics.ts';

/** What a store operation was doing when it failed: the label of firetap_state_errors_total. */
export type StateOp =
  | 'ledger_read'
  | 'ledger_write'
  | 'meter_reserve'
  | 'meter_confirm'
  | 'meter_release'
  | 'lease'
  | 'snapshot_publish'
  | 'snapshot_load'
  | 'iam_token';

/**
 * Counts every store operation that fell back to local memory and logs the transitions only: one warning
 * when the store stops answering, one line when it answers again (never one per request).
 */
export class StateFallback {
  private down = false;
  private readonly metrics: Metrics;
  private readonly log: FastifyBaseLogger;

  constructor(metrics: Metrics, log: FastifyBaseLogger) {
    this.metrics = metrics;
    this.log = log;
  }

  get reachable(): boolean {
    return !this.down;
  }

  failed(op: StateOp, err: unknown): void {
    this.metrics.stateErrors.inc({ op });
    if (this.down) return;
    this.down = true;
    this.log.warn(
      { op, error: (err as Error).message },
      'state store unreachable: falling back to local memory (deliveries go on at least once; dedupe across replicas paused; tags from the last snapshot)',
    );
  }

  succeeded(): void {
    if (!this.down) return;
    this.down = false;
    this.log.info('state store reachable again: the fleet shares its ledger, meter-record dedupe and tag snapshot again');
  }

  /** Runs `op` against the store; on failure counts it and returns `fallback`. */
  async attempt<T>(op: StateOp, run: () => Promise<T>, fallback: T): Promise<T> {
    try {
      const value = await run();
      this.succeeded();
      return value;
    } catch (err) {
      this.failed(op, err);
      return fallback;
    }
  }
}
