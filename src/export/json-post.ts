import type { Exporter } from './exporter.ts';
import { createHttpExporter } from './http-exporter.ts';

export interface JsonPostOptions {
  readonly name: string;
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly userAgent: string;
}

/**
 * POSTs a JSON payload (the request's bytes) to an HTTP endpoint, one attempt, over the transport the OTLP
 * exporter uses, so that its answer is classified the same way and the same retrying decorator applies.
 */
export function createJsonPostExporter(options: JsonPostOptions): Exporter {
  const headers = { ...options.headers, 'content-type': 'application/json', 'user-agent': options.userAgent };
  return createHttpExporter({ name: options.name, url: options.endpoint, headers, timeoutMs: options.timeoutMs });
}
