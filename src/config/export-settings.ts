import { z } from 'zod';
import { httpUrl, positiveInt, stringMap } from './setting-values.ts';

/** The export settings: which exporters each signal goes to, the OTLP/HTTP backend (OpenTelemetry's variables) and Prometheus remote write. */

export type Signal = 'metrics' | 'logs' | 'traces';
/** Every signal, in the order the routes, exporters and settings list them. */
export const SIGNALS: readonly Signal[] = ['metrics', 'logs', 'traces'];
/** The kinds of exporter a signal may be sent to (each has a factory in src/export/exporter-types.ts). */
export const EXPORTER_TYPES = ['otlp-http', 'prometheus-remote-write', 'debug'] as const;
export type ExporterType = (typeof EXPORTER_TYPES)[number];

/** A signal's exporters, by type; default (absent): see exporterTypes in src/export/registry.ts. */
export const exportersSchema = z
  .array(z.enum(EXPORTER_TYPES, { error: (issue) => `unknown exporter type ${JSON.stringify(issue.input)}; known types: ${EXPORTER_TYPES.join(', ')}` }))
  .min(1, `expected at least one exporter type (${EXPORTER_TYPES.join(', ')})`)
  .refine((types) => new Set(types).size === types.length, 'lists an exporter type twice; list each once')
  .optional();

const otlpSignalSchema = z.strictObject({
  endpoint: httpUrl().optional().describe('Full URL for one signal (used as is, no path appended).'),
  headers: stringMap.optional().describe('Headers for one signal, added to the shared ones (a header of the same name wins).'),
  compression: z.enum(['gzip', 'none']).optional().meta({ description: '`gzip` or `none`, for one signal.', defaultText: 'the shared setting' }),
  protocol: z
    .enum(['http/protobuf', 'http/json'])
    .optional()
    .meta({ description: '`http/protobuf` or `http/json`, for one signal.', defaultText: 'the shared setting' }),
  timeoutMs: positiveInt.optional().meta({ description: 'Milliseconds per export attempt, for one signal.', defaultText: 'the shared setting' }),
  auth: z.enum(['none', 'sigv4']).optional().meta({ description: '`none` or `sigv4`, for one signal.', defaultText: 'the shared setting' }),
});

/** The OTLP/HTTP backend, shared and per signal (resolveOtlp applies OpenTelemetry's precedence). */
export const otlpSchema = z.strictObject({
  endpoint: httpUrl().optional().describe('Backend base URL; `/v1/metrics`, `/v1/logs` and `/v1/traces` are appended. None → the debug exporter (stdout).'),
  headers: stringMap.optional().describe('`key=value,…`, values percent-encoded, e.g. `Authorization=Basic%20…,X-Scope-OrgID=acme`.'),
  compression: z.enum(['gzip', 'none']).optional().meta({ description: '`gzip` or `none`.', defaultText: '`none`' }),
  protocol: z.enum(['http/protobuf', 'http/json']).optional().meta({ description: '`http/protobuf` or `http/json`.', defaultText: '`http/protobuf`' }),
  timeoutMs: positiveInt.optional().meta({ description: 'Milliseconds per export attempt.', defaultText: '`10000`' }),
  auth: z.enum(['none', 'sigv4']).optional().meta({
    description:
      '`sigv4`: each request is signed with AWS Signature V4 (default credential chain), for AWS OTLP endpoints (see [AWS endpoints](deploy.md#aws-endpoints-sigv4)); `none`: unsigned.',
    defaultText: '`none`',
  }),
  sigv4: z
    .strictObject({
      region: z.string().min(1).optional().meta({ description: 'The region SigV4 signs for.', defaultText: 'inferred from the endpoint host' }),
      service: z.string().min(1).optional().meta({
        description: 'The service SigV4 signs for (`logs`, `xray`, `monitoring`, `osis`, `aps`).',
        defaultText: 'inferred from the endpoint host',
      }),
    })
    .prefault({}),
  metrics: otlpSignalSchema.prefault({}),
  logs: otlpSignalSchema.prefault({}),
  traces: otlpSignalSchema.prefault({}),
});

/** Prometheus remote write 1.0 of metrics (src/export/prometheus-remote-write.ts). */
export const prometheusRemoteWriteSchema = z.strictObject({
  url: httpUrl()
    .optional()
    .describe(
      'Remote-write URL (AMP: `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/api/v1/remote_write`); set, metrics go there too (see [Backends](backends.md)).',
    ),
  auth: z
    .enum(['none', 'bearer', 'basic', 'sigv4'])
    .default('none')
    .describe('`bearer` (the token below), `basic` (user:password below), `sigv4` (AWS Signature V4 for service `aps`, default credential chain) or `none`.'),
  bearerToken: z.string().min(1).optional().describe('The token of `auth=bearer` (secret).'),
  basicAuth: z
    .string()
    .regex(/^[^:]+:.+$/, 'expected user:password')
    .optional()
    .describe('`user:password` of `auth=basic` (secret).'),
  headers: stringMap.default({}).describe('Headers of each remote-write request (`key=value,…`, secret), e.g. `X-Scope-OrgID=acme` for Mimir.'),
  timeoutMs: positiveInt.default(10_000).describe('Milliseconds per remote-write attempt.'),
  sigv4Region: z.string().min(1).optional().meta({ description: 'The region SigV4 signs for.', defaultText: 'inferred from the URL host' }),
});

/** Where and how one signal is exported over OTLP/HTTP; `undefined` endpoint: no OTLP backend (debug by default). */
export interface OtlpSignalConfig {
  readonly endpoint: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  readonly protocol: 'http/protobuf' | 'http/json';
  readonly timeoutMs: number;
  /** Absent: `none`. */
  readonly auth?: 'none' | 'sigv4';
  /** Overrides of what the endpoint host implies; absent when not set. */
  readonly sigv4Region?: string;
  readonly sigv4Service?: string;
}

const SIGNAL_PATH: Record<Signal, string> = { metrics: 'v1/metrics', logs: 'v1/logs', traces: 'v1/traces' };

/** Applies the OpenTelemetry exporter rules: signal-specific settings win over the shared ones. */
export function resolveOtlp(otlp: z.output<typeof otlpSchema>): Record<Signal, OtlpSignalConfig> {
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
      ...optional('auth', own.auth ?? otlp.auth),
      ...optional('sigv4Region', otlp.sigv4.region),
      ...optional('sigv4Service', otlp.sigv4.service),
    };
  };
  return { metrics: resolve('metrics'), logs: resolve('logs'), traces: resolve('traces') };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
