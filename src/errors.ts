/**
 * Every failure firetap reports is a FiretapError with a stable code. Whether a retry can fix it is
 * decided where the error is born (`retryable`); which HTTP status it becomes is decided in one place,
 * `server/error-handler.ts`.
 */
export type ErrorCode =
  | 'FIRETAP_UNAUTHORIZED'
  | 'FIRETAP_BAD_REQUEST'
  | 'FIRETAP_NOT_FOUND'
  | 'FIRETAP_ALL_RECORDS_INVALID'
  | 'FIRETAP_BODY_TOO_LARGE'
  | 'FIRETAP_UNSUPPORTED_MEDIA'
  | 'FIRETAP_EXPORT_REJECTED'
  | 'FIRETAP_EXPORT_UNAVAILABLE'
  | 'FIRETAP_DEADLINE_EXCEEDED'
  | 'FIRETAP_SHUTTING_DOWN'
  | 'FIRETAP_OVERLOADED'
  | 'FIRETAP_INTERNAL';

export class FiretapError extends Error {
  override name = 'FiretapError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** A hint for the client, in milliseconds, when the cause says how long to wait. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs;
  }
}

export const badRequest = (message: string): FiretapError => new FiretapError('FIRETAP_BAD_REQUEST', message);

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
