import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { success, type Exporter } from './exporter.ts';
import { createHttpExporter } from './http-exporter.ts';
import { type MetricNaming, remoteWriteBody, toSeries } from './remote-write-request.ts';
import { createSigv4Signer, inferSigv4Scope, type Sigv4Scope } from './sigv4.ts';

export type RemoteWriteConfig = Config['prometheusRemoteWrite'];

export interface RemoteWriteExporterOptions {
  readonly config: RemoteWriteConfig & { readonly url: string };
  readonly naming: MetricNaming;
  /** Identifies firetap to the backend. */
  readonly userAgent: string;
}

const AUTH = 'FIRETAP_PROMETHEUS_REMOTE_WRITE_AUTH';

/** Remote write (1.0 specification): a 5xx or 429 may be retried, any other 4xx is permanent. */
const retryableStatus = (status: number): boolean => status === 429 || status >= 500;

/**
 * Sends OTLP metric batches to a Prometheus remote-write receiver (Prometheus, AMP, Mimir, Grafana Cloud,
 * VictoriaMetrics, Thanos): each batch transcoded into a snappy-compressed WriteRequest, one attempt per call over
 * the shared HTTP transport, authorized by a bearer token, basic auth or SigV4 (service `aps`).
 */
export function createRemoteWriteExporter(options: RemoteWriteExporterOptions): Exporter {
  const { config, naming } = options;
  const headers: Record<string, string> = {
    ...config.headers,
    'content-type': 'application/x-protobuf',
    'content-encoding': 'snappy',
    'x-prometheus-remote-write-version': '0.1.0',
    'user-agent': options.userAgent,
  };
  const authorization = authorizationHeader(config);
  if (authorization !== undefined) {
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
    headers.authorization = authorization;
  }
  const sign = config.auth === 'sigv4' ? createSigv4Signer(remoteWriteScope(config)) : undefined;
  const http = createHttpExporter({
    name: 'Prometheus remote-write backend',
    url: config.url,
    headers,
    timeoutMs: config.timeoutMs,
    encode: (request) => remoteWriteBody(toSeries(request.payload, naming)),
    retryableStatus,
    ...(sign ? { sign } : {}),
  });
  return {
    // A batch with no data point (nothing to write) is not sent.
    export: (request) => (request.items === 0 ? Promise.resolve(success) : http.export(request)),
    shutdown: () => http.shutdown(),
  };
}

function authorizationHeader(config: RemoteWriteConfig): string | undefined {
  if (config.auth === 'bearer') {
    if (config.bearerToken === undefined) {
      throw new ConfigError(`${AUTH} is bearer, but no token is set: set FIRETAP_PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN`);
    }
    return `Bearer ${config.bearerToken}`;
  }
  if (config.auth === 'basic') {
    if (config.basicAuth === undefined) {
      throw new ConfigError(`${AUTH} is basic, but no user and password are set: set FIRETAP_PROMETHEUS_REMOTE_WRITE_BASIC_AUTH=<user>:<password>`);
    }
    return `Basic ${Buffer.from(config.basicAuth).toString('base64')}`;
  }
  return undefined;
}

/** SigV4 for remote write signs for `aps`, in the region of the AMP host or the one configured. */
export function remoteWriteScope(config: RemoteWriteConfig & { readonly url: string }): Sigv4Scope {
  const host = new URL(config.url).hostname;
  const region = config.sigv4Region ?? inferSigv4Scope(host)?.region;
  if (region === undefined) {
    throw new ConfigError(
      `${AUTH} is sigv4, but the remote-write URL's host ${host} names no region (it is no aps-workspaces.<region>.amazonaws.com): set FIRETAP_PROMETHEUS_REMOTE_WRITE_SIGV4_REGION`,
    );
  }
  return { region, service: 'aps' };
}
