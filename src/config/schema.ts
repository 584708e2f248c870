import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { enrichmentSchema } from '../enrich/settings.ts';
import { stateSchemaChecked } from '../state/settings.ts';
import { LOG_METRIC_KINDS } from '../decode/log-metrics.ts';
import { namePatternProblem } from '../decode/log-options.ts';
import { DEFAULT_VPC_FLOW_LOG_FORMAT, VPC_FLOW_LOG_FORMAT_PATTERN } from '../decode/vpc-flow-logs.ts';
import { LOG_FORMATS, METRIC_FORMATS } from '../decode/formats.ts';
import { containerMemoryLimit } from '../memory/memory-budget.ts';
import { exportersSchema, otlpSchema, prometheusRemoteWriteSchema, type OtlpSignalConfig, type Signal } from './export-settings.ts';
import { httpUrl, nonNegativeInt, positiveInt, stringMap } from './setting-values.ts';

export { EXPORTER_TYPES, SIGNALS, resolveOtlp, type ExporterType, type OtlpSignalConfig, type Signal } from './export-settings.ts';

const MiB = 1024 * 1024;

/**
 * Firehose's largest request: 64 MiB of records, base64-encoded (4/3), inside the JSON envelope
 * (10,000 × `{"data":""},` plus the request id and timestamp). 96 MiB leaves room for all of it.
 */
export const DEFAULT_MAX_BODY_BYTES = 96 * MiB;

const logsSchema = z.strictObject({
  format: z
    .enum(LOG_FORMATS)
    .default('auto')
    .describe(
      'How `/firehose/logs` reads records when the request has no `?format=`: `auto`, `aws-spans`, `cloudwatch-logs`, `lines`, `record`, `vpc-flow-logs`, `waf` (see [Log sources](formats.md#log-sources)).',
    ),
  vpcFlowLogFormat: z
    .string()
    .regex(VPC_FLOW_LOG_FORMAT_PATTERN, "expected ${field} tokens separated by single spaces, as in the flow log's LogFormat")
    .default(DEFAULT_VPC_FLOW_LOG_FORMAT)
    .describe('The `LogFormat` your VPC flow logs were created with (`${version} ${account-id} …`), for flow logs sent to Firehose directly.'),
  cloudTrailLogGroups: z.array(z.string().min(1)).default([]).describe('Log groups (`*` wildcards) whose events are CloudTrail records.'),
  detectCloudTrail: z.boolean().default(true).describe('Also recognise CloudTrail records in any log group by how they start (`{"eventVersion"`).'),
  namePatterns: z
    .array(
      z.string().superRefine((pattern, ctx) => {
        const problem = namePatternProblem(pattern);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    )
    .default([])
    .describe(
      'Comma-separated `<log group pattern> [<log stream pattern>]` with `{cluster}` `{namespace}` `{pod}` `{container}` `{node}` `{deployment}`: Kubernetes names from log group and stream names (see [Kubernetes names](formats.md#kubernetes-names)).',
    ),
  metrics: z
    .array(z.enum([...LOG_METRIC_KINDS, 'none']))
    .default([...LOG_METRIC_KINDS])
    .describe(
      'Metrics read out of CloudWatch Logs events, Lambda REPORT lines and Embedded Metric Format (see [Metrics from log events](formats.md#metrics-from-log-events)); `none` for neither.',
    ),
  cloudWatchLogGroup: z
    .enum(['source', 'configured'])
    .default('source')
    .describe(
      'Exporting to the CloudWatch Logs OTLP endpoint: `source` sends a request whose records all come from one log group to the group of that name (else to the `x-aws-log-group` header); `configured`: always to the header.',
    ),
  exporters: exportersSchema.meta({
    description: 'Where logs (EventBridge events included) are exported: exporter types, comma-separated (`otlp-http`, `debug`), each listed once.',
    defaultText: '`otlp-http` when an OTLP logs endpoint is set, else `debug`',
  }),
});

const tracesSchema = z.strictObject({
  logGroups: z
    .array(z.string().min(1))
    .default(['aws/spans'])
    .describe(
      'Log groups (`*` wildcards) whose events are spans (Transaction Search writes them to `aws/spans`): their records on `/firehose/logs` are exported as traces (see [Spans](formats.md#spans)).',
    ),
  exporters: exportersSchema.meta({
    description: 'Where traces are exported: exporter types, comma-separated (`otlp-http`, `debug`), each listed once.',
    defaultText: '`otlp-http` when an OTLP traces endpoint is set, else `debug`',
  }),
  maxBatchSpans: positiveInt
    .default(10_000)
    .describe(
      "Spans per traces export at most: a larger batch goes out as several requests, each also within `FIRETAP_EXPORT_MAX_BATCH_BYTES`. 10,000 is X-Ray's OTLP endpoint's limit (with 5 MB a request, above the batch size's default).",
    ),
});

const eventBridgeSchema = z.strictObject({
  apiKeyHeader: z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name')
    .default('x-api-key')
    .describe('Header of an EventBridge API-key connection (its "API key name").'),
  apiKeys: z.array(z.string().min(1).max(4096)).default([]).describe('Accepted values of that header (several for a rotation).'),
  basicAuth: z
    .array(z.string().regex(/^[^:]+:.+$/, 'expected user:password'))
    .default([])
    .describe('Accepted `user:password` of a Basic connection. Neither set: `/eventbridge/events` answers 401 to every event.'),
  allowUnauthenticated: z.boolean().default(false).describe('`true`: with neither of the two above set, accept events without credentials (warned at start).'),
  timeoutMs: positiveInt.max(60_000).default(4500).describe('Time to deliver one event; EventBridge waits 5 s for an API destination.'),
});

const metersSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Read meter records out of log lines (see [Meter records](formats.md#meter-records)).'),
  marker: z.string().min(1).default('meter_record_for_stream').describe('What precedes the JSON meter record in a line.'),
  dedupeWindowSeconds: positiveInt.default(3 * 3600).describe('A `uniqueId` is counted at most once within this window (Firehose retries for up to 2 hours).'),
  endpoint: httpUrl().optional().describe("Also POST each request's new meter records as a JSON array here (a billing ingest API such as Amberflo's)."),
  headers: stringMap.default({}).describe('Headers of those POSTs (`key=value,…`, secret).'),
  timeoutMs: positiveInt.default(10_000).describe('Milliseconds per POST attempt to the meter endpoint.'),
});

/** What a config file may hold, and what the environment is turned into before validation. */
export const configSchema = z.strictObject({
  port: z.coerce.number().int().min(0).max(65535).default(8080).describe('Listening port.'),
  host: z.string().min(1).default('0.0.0.0').describe('Listening address.'),
  tls: z
    .strictObject({
      certFile: z.string().min(1).describe('PEM certificate; with the key, firetap serves HTTPS.'),
      keyFile: z.string().min(1).describe('PEM private key of that certificate.'),
    })
    .optional(),
  accessKeys: z
    .array(z.string().min(1).max(4096))
    .default([])
    .describe(
      'Comma-separated accepted `X-Amz-Firehose-Access-Key` values (several, so that a key can be rotated). Unset: every request is accepted (warned at start).',
    ),
  maxBodyBytes: positiveInt
    .default(DEFAULT_MAX_BODY_BYTES)
    .describe(
      "Largest request body *after* `Content-Encoding` is undone. The default admits Firehose's largest request (64 MiB of records, base64, in the envelope). Larger → `413`.",
    ),
  maxRecordBytes: positiveInt.default(32 * MiB).describe('Largest record after its own gzip is undone (gzip bombs stop here).'),
  requestTimeoutMs: positiveInt
    .max(170_000)
    .default(60_000)
    .describe('Time to deliver one request, backend retries included (at most 170000; Firehose gives up at 180 s).'),
  deadLetterDir: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Directory for `firetap-dead-letter.jsonl`: one JSON line per rejected record (`time`, `requestId`, `signal`, `index`, `reason`, `message`, `data` as sent).',
    ),
  deadLetterUrl: z
    .string()
    .regex(
      /^s3:\/\/(?![^/]*\.\.)(?!\d+\.\d+\.\d+\.\d+(?:\/|$))[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:\/.*)?$/,
      'expected s3://bucket[/prefix] with a valid bucket name (3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)',
    )
    .optional()
    .describe(
      '`s3://bucket[/prefix]`: the same lines kept in S3 instead, one object per request (see [Bad records](protocol-and-answers.md#bad-records-and-refused-data)); needs `AWS_REGION` (or `AWS_DEFAULT_REGION`). Set this or `FIRETAP_DEAD_LETTER_DIR`, not both: firetap refuses to start with both.',
    ),
  maxConcurrentRequests: positiveInt
    .default(16)
    .describe(
      "Firehose requests processed at once, counted from when a request's body has arrived; more are answered 503 + `Retry-After` at once, before their body is read when the slots are already taken. Memory bound: about this × the request size × 3.",
    ),
  maxReceivingRequests: positiveInt
    .default(64)
    .describe(
      'Requests whose bodies are still arriving, counted apart from those processed, so that slow uploads never hold a processing slot; more are answered 503 + `Retry-After` before their body is read.',
    ),
  maxConnections: positiveInt.optional().meta({
    description:
      "Client connections open at once (see [Connections and slow clients](operations.md#connections-and-slow-clients)). The default comes from the process's soft `RLIMIT_NOFILE` (`/proc/self/limits`; 1024 assumed where it cannot be read), leaving 256 files (half of a limit under 512) for backend and AWS sockets, dead-letter files and threads. Set above that, firetap warns at start.",
    defaultText: 'the file limit − 256, at most 10000',
  }),
  headersTimeoutMs: positiveInt
    .default(15_000)
    .describe(
      "A request's head (request line and headers) must arrive within this of the connection opening or of the request's first byte, and a TLS handshake within this of the connection; else `408` and the connection closes.",
    ),
  bodyTimeoutMs: positiveInt
    .default(60_000)
    .describe(
      'The whole request, head and body, must arrive within this of its first byte; else `408`, the connection closes, and the admission slot and buffer it held are given back. Firehose sends a body at once; raise this only for clients that upload large bodies over slow links.',
    ),
  decodeThreads: nonNegativeInt
    .max(64)
    .default(() => (availableParallelism() > 1 ? 1 : 0))
    .meta({
      description:
        'Threads that rewrite metric-stream records beside the main thread (0–64; `0`: all on the main thread). They start with the first metrics request of 16 MiB or less, and each costs ~18 MiB from then on (a logs-only service never starts one). On two cores one thread raised metric throughput by ~40 % (see [Performance](performance.md)); more pay only with more cores.',
      defaultText: '`1` with more than one CPU, else `0`',
    }),
  maxEventLoopDelayMs: nonNegativeInt.default(1000).describe('Shed load (503) while the event loop lags more than this (0: off).'),
  maxHeapUsedBytes: nonNegativeInt
    .default(0)
    .describe("Shed load (503) while the V8 heap is above this (0: off); set it a little under the container's limit."),
  maxRssBytes: nonNegativeInt
    .default(() => {
      const limit = containerMemoryLimit();
      return limit === undefined ? 0 : Math.floor(limit * 0.85);
    })
    .meta({
      description:
        "Shed load (503) while the resident set is above this (0: off); set it a little under the container's limit. The limit is read from cgroup v2 `/sys/fs/cgroup/memory.max` or v1 `memory/memory.limit_in_bytes` (`max`: none).",
      defaultText: "85 % of the container's memory limit when it has one, else `0` (off)",
    }),
  memoryBudgetBytes: positiveInt.optional().meta({
    description:
      'Decoded bytes of all requests in flight at once: bodies after `Content-Encoding` and gunzipped records (see [Memory budget](operations.md#memory-budget)).',
    defaultText: "half the container's memory limit, else half of `FIRETAP_MAX_RSS_BYTES`, else half the machine's memory",
  }),
  resourceAttributes: stringMap
    .default({})
    .describe(
      '`key=value,…` added to every forwarded resource (e.g. `service.name=cloudwatch,deployment.environment=prod`), never overwriting what the data carries.',
    ),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('`fatal` … `trace`, `silent`.'),
  tap: z
    .boolean()
    .default(false)
    .describe(
      '`on`: `GET /debug/tap` streams the decoded, tagged records as the exporters see them, behind the access key (see [Live tap](operations.md#live-tap)); off, it answers 404.',
    ),
  shutdownDelayMs: nonNegativeInt
    .default(0)
    .describe('After SIGTERM, how long `/readyz` says 503 before the listener closes (give the load balancer time to deregister).'),
  shutdownTimeoutMs: positiveInt.default(90_000).describe('How long in-flight requests may take to finish after the listener closed.'),
  export: z
    .strictObject({
      maxBatchBytes: positiveInt.default(4 * MiB).describe('An OTLP request is sent when its encoded size reaches this.'),
      concurrency: positiveInt.max(64).default(4).describe('OTLP requests in flight for one Firehose request.'),
      maxInFlight: positiveInt.default(32).describe("OTLP requests in flight for the whole process; more wait their turn until the request's deadline."),
    })
    .prefault({}),
  enrichment: enrichmentSchema.prefault({}),
  logs: logsSchema.prefault({}),
  traces: tracesSchema.prefault({}),
  eventbridge: eventBridgeSchema.prefault({}),
  meters: metersSchema.prefault({}),
  prometheusRemoteWrite: prometheusRemoteWriteSchema.prefault({}),
  state: stateSchemaChecked.prefault({}),
  metrics: z
    .strictObject({
      format: z
        .enum(METRIC_FORMATS)
        .default('auto')
        .describe('How `/firehose/metrics` reads records when the request has no `?format=`: `auto`, `opentelemetry1.0`, `opentelemetry0.7`, `json`.'),
      exporters: exportersSchema.meta({
        description: 'Where metrics are exported: exporter types, comma-separated (`otlp-http`, `prometheus-remote-write`, `debug`), each listed once.',
        defaultText: '`otlp-http` when an OTLP metrics endpoint is set and `prometheus-remote-write` when its URL is set, else `debug`',
      }),
      naming: z
        .enum(['otel', 'yace'])
        .default('otel')
        .describe(
          'Metric-stream names on every metrics exporter: `otel` as CloudWatch sends them; `yace` as YACE names them (`aws_ec2_cpuutilization_maximum`, see [YACE names](backends.md#yace-names)).',
        ),
    })
    .prefault({}),
  otlp: otlpSchema.prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

export type { EnrichmentConfig } from '../enrich/settings.ts';

export type Config = Readonly<Omit<Parsed, 'otlp' | 'memoryBudgetBytes'>> & {
  readonly otlp: Readonly<Record<Signal, OtlpSignalConfig>>;
  readonly memoryBudgetBytes: number;
};
