import type { ExportRequest, ExportResult, Exporter } from './exporter.ts';
import { postOnce } from './otlp-http.ts';

export interface JsonPostOptions {
  readonly name: string;
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly userAgent: string;
}

/**
 * POSTs a JSON payload (the request's bytes) to an HTTP endpoint, one attempt, its answer classified as the
 * OTLP exporter's is, so that the same retrying decorator applies.
 */
export function createJsonPostExporter(options: JsonPostOptions): Exporter {
  const headers = { ...options.headers, 'content-type': 'application/json', 'user-agent': options.userAgent };
  return {
    async export(request: ExportRequest): Promise<ExportResult> {
      const answer = await postOnce(options.name, options.endpoint, headers, request.payload, Math.min(options.timeoutMs, request.deadline - Date.now()));
      return 'result' in answer ? answer.result : { status: 'success' };
    },
    async shutdown(): Promise<void> {},
  };
}
