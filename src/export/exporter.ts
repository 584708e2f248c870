import type { Signal } from '../config/schema.ts';

/** The outcome of one export, returned as a value: only bugs throw. */
export type ExportResult =
  | { readonly status: 'success'; /** Items the backend reported it rejected (OTLP partial success). */ readonly rejected?: number; readonly message?: string }
  | { readonly status: 'retryable'; readonly message: string; readonly retryAfterMs?: number }
  | { readonly status: 'permanent'; readonly message: string; /** The backend's HTTP status, when it answered. */ readonly httpStatus?: number };

export interface ExportRequest {
  readonly signal: Signal;
  /** An encoded ExportMetricsServiceRequest or ExportLogsServiceRequest (protobuf). */
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
