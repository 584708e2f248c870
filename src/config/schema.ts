import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { enrichmentSchema } from '../enrich/settings.ts';
import { LOG_METRIC_KINDS } from '../decode/log-metrics.ts';
import { namePatternProblem } from '../decode/log-options.ts';
import { DEFAULT_VPC_FLOW_LOG_FORMAT, VPC_FLOW_LOG_FORMAT_PATTERN } from '../decode/vpc-flow-logs.ts';
import { LOG_FORMATS, METRIC_FORMATS } from '../decode/formats.ts';
import { containerMemoryLimit } from '../memory/memory-budget.ts';

const MiB = 1024 * 1024;

/**
 * Firehose's largest request: 64 MiB of records, base64-encoded (4/3), inside the JSON envelope
 * (10,000 × `{"data":""},` plus the request id and timestamp). 96 MiB leaves room for all of it.
 */
export const DEFAULT_MAX_BODY_BYTES = 96 * MiB;

/** An http(s) URL; one written without its scheme (`otel-collector:4318`) is told what to add. */
const httpUrl = () =>
  z.url({
    protocol: /^https?$/,
    error: (issue) =>
      typeof issue.input === 'string' && !issue.input.includes('://')
        ? 'expected a URL with its scheme: add http:// or https:// (for example http://otel-collector:4318)'
        : 'expected an http:// or https:// URL',
  });

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const stringMap = z.record(z.string().min(1), z.string());

const otlpSignalSchema = z.strictObject({
  /** Full URL for this signal; used as is (no path appended). */
  endpoint: httpUrl().optional(),
  headers: stringMap.optional(),
  compression: z.enum(['gzip', 'none']).optional(),
  protocol: z.enum(['http/protobuf', 'http/json']).optional(),
  timeoutMs: positiveInt.optional(),
});

const logsSchema = z.strictObject({
  /** How records of /firehose/logs are read when the request has no ?format= (see LOG_FORMATS). */
  format: z.enum(LOG_FORMATS).default('auto'),
  /** The format VPC flow logs were created with (`${field}` tokens), for flow logs sent to Firehose directly. */
  vpcFlowLogFormat: z.string().regex(VPC_FLOW_LOG_FORMAT_PATTERN, 'expected ${field} tokens separated by single spaces, as in the flow log\'s LogFormat').default(DEFAULT_VPC_FLOW_LOG_FORMAT),
  /** Log groups (exact, or with * wildcards) whose events are CloudTrail records. */
  cloudTrailLogGroups: z.array(z.string().min(1)).default([]),
  /** Recognise CloudTrail records in every log group by their first key. */
  detectCloudTrail: z.boolean().default(true),
  /** `<log group pattern> [<log stream pattern>]` with {cluster} {namespace} {pod} {container} {node} {deployment}. */
  namePatterns: z
    .array(z.string().superRefine((pattern, ctx) => {
      const problem = namePatternProblem(pattern);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }))
    .default([]),
  /** Metrics read out of CloudWatch Logs events: Lambda REPORT lines, Embedded Metric Format; `none` for neither. */
  metrics: z.array(z.enum([...LOG_METRIC_KINDS, 'none'])).default([...LOG_METRIC_KINDS]),
});

const eventBridgeSchema = z.strictObject({
  /** Header of an API-key connection (its "API key name"). */
  apiKeyHeader: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name').default('x-api-key'),
  /** Accepted values of that header; several so that a key can be rotated. */
  apiKeys: z.array(z.string().min(1).max(4096)).default([]),
  /** Accepted `user:password` pairs of a Basic connection. */
  basicAuth: z.array(z.string().regex(/^[^:]+:.+$/, 'expected user:password')).default([]),
  /** Accept events without credentials when neither apiKeys nor basicAuth is set (otherwise such a route answers 401). */
  allowUnauthenticated: z.boolean().default(false),
  /** Time to deliver one event; EventBridge gives an API destination 5 seconds. */
  timeoutMs: positiveInt.max(60_000).default(4500),
});

const metersSchema = z.strictObject({
  /** Look for meter records in log lines. */
  enabled: z.boolean().default(true),
  /** What precedes the JSON meter record in a log line. */
  marker: z.string().min(1).default('meter_record_for_stream'),
  /** A meter record is counted at most once per uniqueId within this window (Firehose retries for up to 2 hours). */
  dedupeWindowSeconds: positiveInt.default(3 * 3600),
  /** Where the meter records are also POSTed as a JSON array (a billing system's ingest API), if anywhere. */
  endpoint: httpUrl().optional(),
  headers: stringMap.default({}),
  timeoutMs: positiveInt.default(10_000),
});

/** What a config file may hold, and what the environment is turned into before validation. */
export const configSchema = z.strictObject({
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  host: z.string().min(1).default('0.0.0.0'),
  tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
  /** Accepted values of X-Amz-Firehose-Access-Key; several so that a key can be rotated. */
  accessKeys: z.array(z.string().min(1).max(4096)).default([]),
  /** Limit on the request body after Content-Encoding is undone. */
  maxBodyBytes: positiveInt.default(DEFAULT_MAX_BODY_BYTES),
  /** Limit on one record after its own gzip is undone (a gzip bomb stops here). */
  maxRecordBytes: positiveInt.default(32 * MiB),
  /** Time to deliver one Firehose request, retries included; Firehose itself waits 3 minutes. */
  requestTimeoutMs: positiveInt.max(170_000).default(60_000),
  deadLetterDir: z.string().min(1).optional(),
  deadLetterUrl: z.string().regex(/^s3:\/\/(?![^/]*\.\.)(?!\d+\.\d+\.\d+\.\d+(?:\/|$))[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:\/.*)?$/, 'expected s3://bucket[/prefix] with a valid bucket name (3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)').optional(),
  /** Firehose requests processed at once; more are answered 503 with Retry-After at once (Firehose retries). */
  maxConcurrentRequests: positiveInt.default(16),
  /** Requests whose bodies are still arriving, apart from those processed: a slow upload never holds a processing slot. */
  maxReceivingRequests: positiveInt.default(64),
  /** Client connections open at once; default: the file limit less a reserve (see src/server/connections.ts). */
  maxConnections: positiveInt.optional(),
  /** A request's head (request line and headers; after TLS, the handshake) must arrive within this of the connection or of the request's first byte. */
  headersTimeoutMs: positiveInt.default(15_000),
  /** The whole request, head and body, must arrive within this of its first byte; else 408 and the connection closes. */
  bodyTimeoutMs: positiveInt.default(60_000),
  /**
   * Threads that rewrite metric-stream records off the main thread (0: on the main thread). Default: 1
   * when the process may use more than one CPU, else 0.
   */
  decodeThreads: nonNegativeInt.max(64).default(() => (availableParallelism() > 1 ? 1 : 0)),
  /** Shed load (503) while the event loop lags more than this; 0 turns the check off. */
  maxEventLoopDelayMs: nonNegativeInt.default(1000),
  /** Shed load (503) while the heap (V8) or the resident set is above these; 0 turns a check off. */
  maxHeapUsedBytes: nonNegativeInt.default(0),
  /** Default: 85 % of the container's memory limit (cgroup), none without one. */
  maxRssBytes: nonNegativeInt.default(() => {
    const limit = containerMemoryLimit();
    return limit === undefined ? 0 : Math.floor(limit * 0.85);
  }),
  /** Decoded bytes of all requests in flight (bodies, gunzipped records); default: half the memory limit (see load.ts). */
  memoryBudgetBytes: positiveInt.optional(),
  /** Added to every resource forwarded, never overwriting what the data carries. */
  resourceAttributes: stringMap.default({}),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** After SIGTERM, /readyz says no for this long before the listener closes (load balancer deregistration). */
  shutdownDelayMs: nonNegativeInt.default(0),
  /** After the listener closes, how long in-flight requests may take before the process exits anyway. */
  shutdownTimeoutMs: positiveInt.default(90_000),
  export: z
    .strictObject({
      /** An OTLP request is sent once its encoded size reaches this. */
      maxBatchBytes: positiveInt.default(4 * MiB),
      /** OTLP requests in flight for one Firehose request. */
      concurrency: positiveInt.max(64).default(4),
      /** OTLP requests in flight for the whole process; more wait their turn. */
      maxInFlight: positiveInt.default(32),
    })
    .prefault({}),
  enrichment: enrichmentSchema.prefault({}),
  logs: logsSchema.prefault({}),
  eventbridge: eventBridgeSchema.prefault({}),
  meters: metersSchema.prefault({}),
  metrics: z
    .strictObject({
      /** How records of /firehose/metrics are read when the request has no ?format=. */
      format: z.enum(METRIC_FORMATS).default('auto'),
    })
    .prefault({}),
  otlp: z
    .strictObject({
      /** Base URL; `/v1/metrics` and `/v1/logs` are appended. */
      endpoint: httpUrl().optional(),
      headers: stringMap.optional(),
      compression: z.enum(['gzip', 'none']).optional(),
      protocol: z.enum(['http/protobuf', 'http/json']).optional(),
      timeoutMs: positiveInt.optional(),
      metrics: otlpSignalSchema.prefault({}),
      logs: otlpSignalSchema.prefault({}),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

export type Signal = 'metrics' | 'logs';
export type { EnrichmentConfig } from '../enrich/settings.ts';

/** Where and how one signal is exported; `undefined` endpoint means the debug exporter. */
export interface OtlpSignalConfig {
  readonly endpoint: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  readonly protocol: 'http/protobuf' | 'http/json';
  readonly timeoutMs: number;
}

export type Config = Readonly<Omit<Parsed, 'otlp' | 'memoryBudgetBytes'>> & {
  readonly otlp: Readonly<Record<Signal, OtlpSignalConfig>>;
  readonly memoryBudgetBytes: number;
};

const SIGNAL_PATH: Record<Signal, string> = { metrics: 'v1/metrics', logs: 'v1/logs' };

/** Applies the OpenTelemetry exporter rules: signal-specific settings win over the shared ones. */
export function resolveOtlp(otlp: Parsed['otlp']): Record<Signal, OtlpSignalConfig> {
  const resolve = (signal: Signal): OtlpSignalConfig => {
    const own = otlp[signal];
    let endpoint = own.endpoint;
    if (endpoint === undefined && otlp.endpoint !== undefined) {
      endpoint = otlp.endpoint.endsWith('/') ? otlp.endpoint + SIGNAL_PATH[signal] : `${otlp.endpoint}/${SIGNAL_PATH[signal]}`;
    }
    return {
      endpoint,
      headers: { ...otlp.headers, ...own.headers },
      compression: own.compression ?? otlp.compression ?? 'none',
      protocol: own.protocol ?? otlp.protocol ?? 'http/protobuf',
      timeoutMs: own.timeoutMs ?? otlp.timeoutMs ?? 10_000,
    };
  };
  return { metrics: resolve('metrics'), logs: resolve('logs') };
}
