import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
      const answer = await postOnce(`OTLP ${signal} backend`, config.endpoint, headers, body, Math.min(config.timeoutMs, request.deadline - Date.now()));
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
 * 429/502/503/504 (with Retry-After) are retryable; any other non-2xx (a redirect included: an endpoint
 * that moved is a configuration to fix) is permanent. A 2xx gives its body, read up to MAX_RESPONSE_BODY_BYTES.
 *
 * A failure's `message` names `name` and the status only: it reaches the caller (Firehose keeps it in the
 * account's error logs), which must learn neither the backend's address nor what it said. Its `detail`, for
 * firetap's own log, adds the URL (no userinfo, no query) and the first bytes of the backend's answer.
 *
 * node:http(s) over a kept-alive agent per origin rather than fetch: fetch copies every body it is given
 * (WebIDL), costs about twice the CPU per request, and Node compiles its bundled undici on the first call,
 * which held the event loop for ~30 ms in the middle of the first large request.
 */
export function postOnce(
  name: string,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array,
  timeoutMs: number,
): Promise<{ result: ExportResult } | { body: Buffer; contentType: string | null }> {
  const timeout = Math.max(1, timeoutMs);
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ result: { status: 'permanent', message: `${name}: not a URL` } });
      return;
    }
    const where = logSafeUrl(target);
    const retryable = (message: string, detail = message) => ({ result: { status: 'retryable' as const, message: `${name}: ${message}`, detail: `${name} ${where}: ${detail}` } });
    const failed = (err: Error) => (err.name === 'AbortError' ? retryable(`no answer within ${timeout} ms`) : retryable(connectionProblem(err), errorMessage(err)));
    // Settled on the request's 'close', not on the answer: a backend may answer before it has read the whole
    // body, and the caller may reuse the payload's buffer once this resolves.
    let outcome: { result: ExportResult } | { body: Buffer; contentType: string | null } | undefined;
    const settle = (value: NonNullable<typeof outcome>) => {
      outcome ??= value;
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, agent: agentFor(target), signal: AbortSignal.timeout(timeout) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answered = () => settle(classify(name, where, res, Buffer.concat(chunks)));
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_RESPONSE_BODY_BYTES) {
          chunks.push(chunk);
          return;
        }
        // Enough read: the rest is not wanted, and the connection cannot be reused mid-answer.
        res.removeAllListeners('data');
        res.destroy();
        answered();
      });
      res.on('end', answered);
      res.on('error', (err: Error) => settle(err.name === 'AbortError' ? retryable(`no answer within ${timeout} ms`) : retryable('reading the response failed', `reading the response failed: ${errorMessage(err)}`)));
    });
    req.on('error', (err: Error) => settle(failed(err)));
    req.on('close', () => resolve(outcome ?? retryable('the connection closed before an answer')));
    req.end(body);
  });
}

function classify(name: string, where: string, res: IncomingMessage, text: Buffer): { result: ExportResult } | { body: Buffer; contentType: string | null } {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return { body: text, contentType: res.headers['content-type'] ?? null };
  const message = `${name} answered ${status}`;
  const detail = `${name} ${where} answered ${status}${summarize(text)}`;
  if (RETRYABLE_STATUS.has(status)) {
    const header = res.headers['retry-after'];
    const retryAfterMs = parseRetryAfterMs(typeof header === 'string' ? header : null);
    return { result: retryAfterMs === undefined ? { status: 'retryable', message, detail } : { status: 'retryable', message, detail, retryAfterMs } };
  }
  return { result: { status: 'permanent', message, detail, httpStatus: status } };
}

/** The URL as a log line may show it: without userinfo (credentials) and query (tokens). */
export function logSafeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** What failed, without the address Node's message carries (`connect ECONNREFUSED 10.0.3.7:4318`). */
function connectionProblem(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? `connection failed (${code})` : 'connection failed';
}

/** Kept-alive connections, one pool per origin (the OTLP backends and the billing endpoint). */
const agents = new Map<string, HttpAgent>();
function agentFor(url: URL): HttpAgent {
  let agent = agents.get(url.origin);
  if (!agent) {
    const options = { keepAlive: true, scheduling: 'lifo' as const };
    agent = url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
    agents.set(url.origin, agent);
  }
  return agent;
}

function summarize(body: Buffer): string {
  if (body.length === 0) return '';
  const text = body.toString('utf8', 0, Math.min(body.length, 512)).replace(/\s+/g, ' ').trim();
  return /^[\x20-\x7e]*$/.test(text) ? `: ${text}` : '';
}
