import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { OtlpSignalConfig, Signal } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { decodeToJson, otlpTypes, OTLP_JSON_OPTIONS } from '../otlp/schema.ts';
import type { ExportRequest, ExportResult, Exporter } from './exporter.ts';
import { parseRetryAfterMs } from './retry-after.ts';

const gzip = promisify(gzipCallback);

/** A backend answer larger than this is not read (a misbehaving backend must not fill our memory). */
export const MAX_RESPONSE_BODY_BYTES = 4 * 1024 * 1024;

/** OTLP/HTTP "Failures": only these statuses may be retried. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

export interface OtlpHttpExporterOptions {
  readonly signal: Signal;
  readonly config: OtlpSignalConfig & { readonly endpoint: string };
  /** Identifies firetap to the backend. */
  readonly userAgent: string;
}

/**
 * Sends one OTLP/HTTP export request (OTLP specification, "OTLP/HTTP"): POST of the protobuf
 * (or JSON) payload, optionally gzipped, with the configured headers; reads the response for
 * partial success. It makes one attempt; retries are the RetryingExporter's job.
 */
export function createOtlpHttpExporter(options: OtlpHttpExporterOptions): Exporter {
  const { config, signal } = options;
  const json = config.protocol === 'http/json';
  const headers: Record<string, string> = {
    ...config.headers,
    'content-type': json ? 'application/json' : 'application/x-protobuf',
    'user-agent': options.userAgent,
  };
  if (config.compression === 'gzip') headers['content-encoding'] = 'gzip';
  const responseType = signal === 'metrics' ? otlpTypes.ExportMetricsServiceResponse : otlpTypes.ExportLogsServiceResponse;

  return {
    async export(request: ExportRequest): Promise<ExportResult> {
      let body: Uint8Array = json ? Buffer.from(JSON.stringify(decodeToJson(signal, request.payload))) : request.payload;
      if (config.compression === 'gzip') body = await gzip(body);
      const answer = await postOnce(`OTLP ${signal} backend ${config.endpoint}`, config.endpoint, headers, body, Math.min(config.timeoutMs, request.deadline - Date.now()));
      return 'result' in answer ? answer.result : partialSuccess(answer.body, answer.contentType);
    },
    async shutdown(): Promise<void> {},
  };

  function partialSuccess(body: Buffer, contentType: string | null): ExportResult {
    if (body.length === 0) return { status: 'success' };
    try {
      const decoded = contentType?.includes('json')
        ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>)
        : responseType.toObject(responseType.decode(body), OTLP_JSON_OPTIONS);
      const partial = decoded.partialSuccess as Record<string, unknown> | undefined;
      const rejected = Number(partial?.rejectedDataPoints ?? partial?.rejectedLogRecords ?? 0);
      if (rejected > 0 || partial?.errorMessage) {
        return { status: 'success', rejected, message: String(partial?.errorMessage ?? '') };
      }
    } catch {
      // A 2xx whose body we cannot read is still a success (OTLP: the body is informational).
    }
    return { status: 'success' };
  }
}

/**
 * One HTTP POST, its failure classified as OTLP/HTTP classifies it: no answer, an unreadable answer,
 * 429/502/503/504 (with Retry-After) are retryable; any other non-2xx is permanent. A 2xx gives its body.
 */
export async function postOnce(
  name: string,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array,
  timeoutMs: number,
): Promise<{ result: ExportResult } | { body: Buffer; contentType: string | null }> {
  const timeout = Math.max(1, timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeout), redirect: 'error' });
  } catch (err) {
    const e = err as Error;
    return { result: { status: 'retryable', message: `${name}: ${e.name === 'TimeoutError' ? `no answer within ${timeout} ms` : describeFetchError(e)}` } };
  }
  let text: Buffer;
  try {
    text = await readCapped(response, MAX_RESPONSE_BODY_BYTES);
  } catch (err) {
    return { result: { status: 'retryable', message: `${name}: reading the response failed: ${errorMessage(err)}` } };
  }
  if (response.status >= 200 && response.status < 300) return { body: text, contentType: response.headers.get('content-type') };
  const detail = `${name} answered ${response.status}${summarize(text)}`;
  if (RETRYABLE_STATUS.has(response.status)) {
    const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'));
    return { result: retryAfterMs === undefined ? { status: 'retryable', message: detail } : { status: 'retryable', message: detail, retryAfterMs } };
  }
  return { result: { status: 'permanent', message: detail, httpStatus: response.status } };
}

export async function readCapped(response: Response, maxBytes: number): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => {});
      break;
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function summarize(body: Buffer): string {
  if (body.length === 0) return '';
  const text = body.toString('utf8', 0, Math.min(body.length, 512)).replace(/\s+/g, ' ').trim();
  return /^[\x20-\x7e]*$/.test(text) ? `: ${text}` : '';
}

function describeFetchError(e: Error): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code} ${cause.message ?? ''}`.trim();
  return cause?.message ? `${e.message}: ${cause.message}` : e.message;
}
