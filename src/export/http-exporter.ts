import { errorMessage } from '../errors.ts';
import { success, type ExportRequest, type ExportResult, type Exporter } from './exporter.ts';
import { postOnce } from './http-transport.ts';

/** A request as it will be sent: the final bytes (compressed, if they are) and headers. */
export interface OutgoingRequest {
  readonly method: 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** Gives the headers to send in place of the request's own (e.g. with a signature added). */
export type SignHook = (request: OutgoingRequest) => Promise<Record<string, string>>;

export interface HttpExporterOptions {
  /** Names the backend in every failure's message ("OTLP metrics backend", "meter endpoint"). */
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** One attempt's limit; never past the request's deadline. */
  readonly timeoutMs: number;
  /** The bytes to POST for a request; the payload as it is when absent. */
  readonly encode?: (request: ExportRequest) => Uint8Array | Promise<Uint8Array>;
  /** What a 2xx answer says (a partial success); plain success when absent. */
  readonly read?: (body: Buffer, contentType: string | null) => ExportResult;
  /** Applied to each attempt's final bytes and headers right before they are posted (SigV4). */
  readonly sign?: SignHook;
  /** The headers of one request in place of `headers` (chosen from its content, as CloudWatch Logs' log group). */
  readonly headersFor?: (request: ExportRequest) => Readonly<Record<string, string>>;
  /** Which non-2xx statuses a retry may fix; OTLP/HTTP's (429, 502, 503, 504) when absent. */
  readonly retryableStatus?: (status: number) => boolean;
}

/**
 * An exporter that POSTs each request over the shared HTTP transport, one attempt, its failures classified
 * there; what is exporter-specific (the body's encoding, reading the answer) comes in as `encode` and `read`.
 * Retries and the in-flight limit are decorators around it (see ExporterContext.reliable).
 */
export function createHttpExporter(options: HttpExporterOptions): Exporter {
  const { name, url, headers, timeoutMs, encode, read, sign, retryableStatus, headersFor } = options;
  const target = sign ? new URL(url) : undefined;
  return {
    async export(request: ExportRequest): Promise<ExportResult> {
      const body = encode ? await encode(request) : request.payload;
      let sent = headersFor ? headersFor(request) : headers;
      if (sign && target) {
        try {
          sent = await sign({ method: 'POST', url: target, headers: sent, body });
        } catch (err) {
          // Credentials may come back (IMDS, a rotated role): retryable. The provider's message holds no secret.
          const message = `${name}: signing the request failed`;
          return { status: 'retryable', message, detail: `${message}: ${errorMessage(err)}` };
        }
      }
      const answer = await postOnce(name, url, sent, body, Math.min(timeoutMs, request.deadline - Date.now()), retryableStatus);
      if ('result' in answer) return answer.result;
      return read ? read(answer.body, answer.contentType) : success;
    },
    async shutdown(): Promise<void> {},
  };
}
