import type { Signal } from '../config/schema.ts';
import { FiretapError } from '../errors.ts';

/** The outcome of one export, returned as a value: only bugs throw. */
export type ExportResult =
  | { readonly status: 'success'; /** Items the backend reported it rejected (OTLP partial success). */ readonly rejected?: number; readonly message?: string }
  | { readonly status: 'retryable'; readonly message: string; readonly retryAfterMs?: number }
  | { readonly status: 'permanent'; readonly message: string; /** The backend's HTTP status, when it answered. */ readonly httpStatus?: number };

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
}

/** Sends OTLP export requests somewhere. Decorators (retrying, concurrency limit) wrap this interface. */
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
  return new FiretapError('FIRETAP_EXPORT_UNAVAILABLE', message, { retryable: true, ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }) });
}
