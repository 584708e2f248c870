import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FiretapError, type ErrorCode } from '../errors.ts';
import { firehoseResponse } from '../firehose/response.ts';

/** The one place where an error becomes an HTTP status. Firehose retries anything but 200 (and 413). */
const STATUS: Readonly<Record<ErrorCode, number>> = {
  FIRETAP_UNAUTHORIZED: 401,
  FIRETAP_BAD_REQUEST: 400,
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

export function requestIdOf(request: FastifyRequest): string {
  const fromHeader = request.headers['x-amz-firehose-request-id'];
  return (request.firetapRequestId ?? (typeof fromHeader === 'string' ? fromHeader : undefined)) || '';
}

/** Error handler of the Firehose routes: every answer, failures included, is a Firehose response. */
export function createFirehoseErrorHandler() {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const answer = answerFor(err);
    request.firetapError = answer.message;
    if (answer.status >= 500 && !(err instanceof FiretapError)) request.log.error({ err, requestId: requestIdOf(request) }, 'unexpected error');
    if (answer.retryAfterSeconds !== undefined) reply.header('retry-after', String(answer.retryAfterSeconds));
    return reply.code(answer.status).type('application/json').send(firehoseResponse(requestIdOf(request), answer.message));
  };
}
