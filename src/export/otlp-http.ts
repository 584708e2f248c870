import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { OtlpSignalConfig, Signal } from '../config/schema.ts';
import { decodeToJson, otlpTypes, OTLP_JSON_OPTIONS } from '../otlp/schema.ts';
import type { ExportRequest, ExportResult, Exporter } from './exporter.ts';
import { createHttpExporter } from './http-exporter.ts';
import { createSigv4Signer, inferSigv4Scope, sigv4ScopeFor } from './sigv4.ts';
import { resourceStrings } from '../otlp/resource-strings.ts';

const gzip = promisify(gzipCallback);

const RESPONSE_TYPES = {
  metrics: otlpTypes.ExportMetricsServiceResponse,
  logs: otlpTypes.ExportLogsServiceResponse,
  traces: otlpTypes.ExportTraceServiceResponse,
} as const;

export interface OtlpHttpExporterOptions {
  readonly signal: Signal;
  readonly config: OtlpSignalConfig & { readonly endpoint: string };
  /** Identifies firetap to the backend. */
  readonly userAgent: string;
  /** CloudWatch Logs: a request whose records all come from one log group goes to that group (x-aws-log-group). */
  readonly logGroupFromSource?: boolean;
}

/**
 * Sends one OTLP/HTTP export request (OTLP specification, "OTLP/HTTP"): POST of the protobuf
 * (or JSON) payload, optionally gzipped, with the configured headers; reads the response for
 * partial success. It makes one attempt over the shared HTTP transport (http-transport.ts); retries are
 * the RetryingExporter's job.
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
  // Checked here, at startup: a missing region or log group header is a ConfigError, not a failed export.
  const scope = config.auth === 'sigv4' ? sigv4ScopeFor(signal, config) : undefined;
  const sign = scope ? createSigv4Signer(scope) : undefined;
  const cloudWatchLogs = signal === 'logs' && (scope?.service ?? inferSigv4Scope(new URL(config.endpoint).hostname)?.service) === 'logs';
  const headersFor = cloudWatchLogs && options.logGroupFromSource ? sourceLogGroupHeaders(headers) : undefined;
  const responseType = RESPONSE_TYPES[signal];

  const encode = async (request: ExportRequest): Promise<Uint8Array> => {
    const body: Uint8Array = json ? Buffer.from(JSON.stringify(decodeToJson(signal, request.payload))) : request.payload;
    return config.compression === 'gzip' ? gzip(body) : body;
  };
  return createHttpExporter({
    name: `OTLP ${signal} backend`,
    url: config.endpoint,
    headers,
    timeoutMs: config.timeoutMs,
    read: partialSuccess,
    ...(json || config.compression === 'gzip' ? { encode } : {}),
    ...(sign ? { sign } : {}),
    ...(headersFor ? { headersFor } : {}),
  });

  function partialSuccess(body: Buffer, contentType: string | null): ExportResult {
    if (body.length === 0) return { status: 'success' };
    try {
      const decoded = contentType?.includes('json')
        ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>)
        : responseType.toObject(responseType.decode(body), OTLP_JSON_OPTIONS);
      const partial = decoded.partialSuccess as Record<string, unknown> | undefined;
      const rejected = Number(partial?.rejectedDataPoints ?? partial?.rejectedLogRecords ?? partial?.rejectedSpans ?? 0);
      if (rejected > 0 || partial?.errorMessage) {
        return { status: 'success', rejected, message: String(partial?.errorMessage ?? '') };
      }
    } catch {
      // A 2xx whose body we cannot read is still a success (OTLP: the body is informational).
    }
    return { status: 'success' };
  }
}

/** The configured headers, with x-aws-log-group set to the request's one source log group when it has one. */
function sourceLogGroupHeaders(headers: Readonly<Record<string, string>>): (request: ExportRequest) => Readonly<Record<string, string>> {
  const configured = Object.keys(headers).find((name) => name.toLowerCase() === 'x-aws-log-group');
  return (request) => {
    const groups = resourceStrings(request.payload, 'aws.log.group.names');
    if (groups.size !== 1) return headers;
    const own: Record<string, string> = { ...headers };
    if (configured) delete own[configured];
    own['x-aws-log-group'] = groups.values().next().value!;
    return own;
  };
}
