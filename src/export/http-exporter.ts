import { success, type ExportRequest, type ExportResult, type Exporter } from './exporter.ts';
import { postOnce } from './http-transport.ts';

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
}

/**
 * An exporter that POSTs each request over the shared HTTP transport, one attempt, its failures classified
 * there; what is exporter-specific (the body's encoding, reading the answer) comes in as `encode` and `read`.
 * Retries and the in-flight limit are decorators around it (see ExporterContext.reliable).
 */
export function createHttpExporter(options: HttpExporterOptions): Exporter {
  const { name, url, headers, timeoutMs, encode, read } = options;
  return {
    async export(request: ExportRequest): Promise<ExportResult> {
      const body = encode ? await encode(request) : request.payload;
      const answer = await postOnce(name, url, headers, body, Math.min(timeoutMs, request.deadline - Date.now()));
      if ('result' in answer) return answer.result;
      return read ? read(answer.body, answer.contentType) : success;
    },
    async shutdown(): Promise<void> {},
  };
}
