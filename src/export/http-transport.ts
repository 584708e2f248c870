import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { errorMessage } from '../errors.ts';
import type { ExportResult } from './exporter.ts';
import { parseRetryAfterMs } from './retry-after.ts';

/** A backend answer larger than this is not read (a misbehaving backend must not fill our memory). */
export const MAX_RESPONSE_BODY_BYTES = 4 * 1024 * 1024;

/** OTLP/HTTP "Failures": only these statuses may be retried. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
export const otlpRetryableStatus = (status: number): boolean => RETRYABLE_STATUS.has(status);

/** A failure, classified; or a 2xx answer's body, for the exporter to read. */
export type HttpAnswer = { result: ExportResult } | { body: Buffer; contentType: string | null };

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
 * (WebIDL), costs more CPU per request, and compiles its bundled undici on the first call, holding the
 * event loop in the middle of the first large request.
 */
export function postOnce(
  name: string,
  url: string,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array,
  timeoutMs: number,
  retryableStatus: (status: number) => boolean = otlpRetryableStatus,
): Promise<HttpAnswer> {
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
    const retryable = (message: string, detail = message) => ({
      result: { status: 'retryable' as const, message: `${name}: ${message}`, detail: `${name} ${where}: ${detail}` },
    });
    const failed = (err: Error) =>
      err.name === 'AbortError' ? retryable(`no answer within ${timeout} ms`) : retryable(connectionProblem(err), errorMessage(err));
    // Settled on the request's 'close', not on the answer: a backend may answer before it has read the whole
    // body, and the caller may reuse the payload's buffer once this resolves.
    let outcome: HttpAnswer | undefined;
    const settle = (value: HttpAnswer) => {
      outcome ??= value;
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, agent: agentFor(target), signal: AbortSignal.timeout(timeout) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const answered = () => settle(classify(name, where, res, Buffer.concat(chunks), retryableStatus));
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
        res.on('error', (err: Error) =>
          settle(
            err.name === 'AbortError'
              ? retryable(`no answer within ${timeout} ms`)
              : retryable('reading the response failed', `reading the response failed: ${errorMessage(err)}`),
          ),
        );
      },
    );
    req.on('error', (err: Error) => settle(failed(err)));
    req.on('close', () => resolve(outcome ?? retryable('the connection closed before an answer')));
    req.end(body);
  });
}

function classify(name: string, where: string, res: IncomingMessage, text: Buffer, retryableStatus: (status: number) => boolean): HttpAnswer {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return { body: text, contentType: res.headers['content-type'] ?? null };
  const message = `${name} answered ${status}`;
  const detail = `${name} ${where} answered ${status}${summarize(text)}`;
  if (retryableStatus(status)) {
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
