import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FiretapError, type ErrorCode } from '../errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    firetapRequestId: string | undefined;
    firetapError: string | undefined;
    /** Set when the answer is firetap shedding load or draining: expected, logged at warn rather than error. */
    firetapShed: boolean;
  }
}

/** The one place where an error becomes an HTTP status. Firehose retries anything but 200 (and 413). */
const STATUS: Readonly<Record<ErrorCode, number>> = {
  FIRETAP_UNAUTHORIZED: 401,
  FIRETAP_BAD_REQUEST: 400,
  FIRETAP_NOT_FOUND: 404,
  FIRETAP_ALL_RECORDS_INVALID: 400,
  // Firehose does not retry 413: only for a body no retry can make smaller.
  FIRETAP_BODY_TOO_LARGE: 413,
  FIRETAP_UNSUPPORTED_MEDIA: 415,
  FIRETAP_EXPORT_REJECTED: 502,
  FIRETAP_EXPORT_UNAVAILABLE: 503,
  FIRETAP_DEADLINE_EXCEEDED: 503,
  FIRETAP_SHUTTING_DOWN: 503,
  FIRETAP_OVERLOADED: 503,
  FIRETAP_INTERNAL: 500,
};

export interface ErrorAnswer {
  readonly status: number;
  readonly message: string;
  readonly retryAfterSeconds?: number;
}

export function answerFor(err: unknown): ErrorAnswer {
  if (err instanceof FiretapError) {
    const status = STATUS[err.code];
    if (status === 503) return { status, message: err.message, retryAfterSeconds: Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000)) };
    return { status, message: err.message };
  }
  const e = err as FastifyError;
  if (e.code === 'FST_CP_ERR_INVALID_CONTENT_ENCODING') return { status: 415, message: `${e.message}; firetap accepts gzip, deflate, br, zstd and identity` };
  if (e.validation) return { status: 400, message: `invalid request: ${e.message}` };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return { status: e.statusCode, message: e.message };
  return { status: 500, message: 'internal error; see the firetap log for this request id' };
}

/** Firehose's bound on the request id; a longer header is never echoed. */
export const MAX_REQUEST_ID_CHARS = 256;

/**
 * The id an answer and its log line carry: the header's, else the body's (set by the route once located),
 * else one made up here, so that an answer can always be found in the log.
 */
export function requestIdOf(request: FastifyRequest): string {
  if (request.firetapRequestId) return request.firetapRequestId;
  const fromHeader = request.headers['x-amz-firehose-request-id'];
  const id = typeof fromHeader === 'string' && fromHeader !== '' && fromHeader.length <= MAX_REQUEST_ID_CHARS ? fromHeader : `firetap-${randomUUID()}`;
  request.firetapRequestId = id;
  return id;
}

/** What a route answers an error with: its own JSON shape around the message. */
export type ErrorShape = (request: FastifyRequest, message: string) => unknown;

export const plainShape: ErrorShape = (_request, message) => ({ error: message });

/** The error handler of every route: the status from answerFor, the body in the route's shape. */
export function createErrorHandler(shape: ErrorShape) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const answer = answerFor(err);
    request.firetapError = answer.message;
    request.firetapShed = err instanceof FiretapError && (err.code === 'FIRETAP_OVERLOADED' || err.code === 'FIRETAP_SHUTTING_DOWN');
    if (answer.status >= 500 && !(err instanceof FiretapError)) request.log.error({ err, requestId: request.firetapRequestId }, 'unexpected error');
    if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
    return reply.code(answer.status).type('application/json').send(shape(request, answer.message));
  };
}
