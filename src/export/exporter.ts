import type { FastifyBaseLogger } from 'fastify';
import type { Signal } from '../config/schema.ts';
import { FiretapError } from '../errors.ts';

/**
 * The outcome of one export, returned as a value: only bugs throw. A failure's `message` may reach the
 * caller's answer (the signal and the backend's status); its `detail` is for firetap's log only (the
 * backend's URL and the start of its answer).
 */
export type ExportResult =
  | { readonly status: 'success' /** Items the backend reported it rejected (OTLP partial success). */; readonly rejected?: number; readonly message?: string }
  | { readonly status: 'retryable'; readonly message: string; readonly detail?: string; readonly retryAfterMs?: number }
  | {
      readonly status: 'permanent';
      readonly message: string;
      readonly detail?: string /** The backend's HTTP status, when it answered. */;
      readonly httpStatus?: number;
    };

export interface ExportRequest {
  readonly signal: Signal;
  /**
   * An encoded ExportMetricsServiceRequest or ExportLogsServiceRequest (protobuf). Lent, not given: its
   * buffer may be reused once export() has settled, so an exporter keeps no reference to it past that.
   */
  readonly payload: Uint8Array;
  /** Data points or log records in the payload. */
  readonly items: number;
  /** Epoch milliseconds by which the export must have succeeded or given up. */
  readonly deadline: number;
  /**
   * Names this batch's content across retries of the request that carried it (the delivery ledger's key
   * and the batch's id), when it has one: a fan-out then skips the members that already accepted it.
   */
  readonly batchKey?: string;
  /** The route the records arrived on (`/firehose/logs`…), for the live tap's filter. */
  readonly route?: string;
}

/** Sends OTLP export requests somewhere. Decorators (retrying, concurrency limit, fan-out) wrap this interface. */
export interface Exporter {
  export(request: ExportRequest): Promise<ExportResult>;
  shutdown(): Promise<void>;
}

export const success: ExportResult = Object.freeze({ status: 'success' });

/**
 * What a failed export makes of the request: retryable → unavailable (503, with the backend's Retry-After),
 * permanent → rejected (502). `context` prefixes the backend's message.
 */
export function exportError(result: Exclude<ExportResult, { status: 'success' }>, context = ''): FiretapError {
  const message = context + result.message;
  if (result.status === 'permanent') return new FiretapError('FIRETAP_EXPORT_REJECTED', message);
  return new FiretapError('FIRETAP_EXPORT_UNAVAILABLE', message, {
    retryable: true,
    ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
  });
}

/**
 * Logs why an export failed — the backend's URL and the start of its answer (`detail`), which the answer to
 * the caller leaves out. Returns true when it logged.
 */
export function logExportFailure(log: FastifyBaseLogger, result: ExportResult, fields: Readonly<Record<string, unknown>>): boolean {
  if (result.status === 'success') return false;
  log.warn({ ...fields, outcome: result.status, error: result.message, ...(result.detail === undefined ? {} : { backend: result.detail }) }, 'export failed');
  return true;
}
