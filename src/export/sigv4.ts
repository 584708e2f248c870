import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { ConfigError } from '../config/load.ts';
import type { OtlpSignalConfig, Signal } from '../config/schema.ts';
import type { SignHook } from './http-exporter.ts';

export interface Sigv4Scope {
  readonly region: string;
  readonly service: string;
}

/** AWS OTLP endpoint hosts and the service each signs for; the captured group is the region. */
const HOSTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^logs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/, 'logs'],
  [/^xray\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/, 'xray'],
  [/^monitoring\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/, 'monitoring'],
  [/^[a-z0-9-]+\.([a-z0-9-]+)\.osis\.amazonaws\.com(?:\.cn)?$/, 'osis'],
  [/^aps-workspaces\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/, 'aps'],
];

/** The region and service an endpoint's host implies, or undefined for a host that is not one of HOSTS. */
export function inferSigv4Scope(host: string): Sigv4Scope | undefined {
  const name = host.toLowerCase();
  for (const [pattern, service] of HOSTS) {
    const region = pattern.exec(name)?.[1];
    if (region !== undefined) return { region, service };
  }
  return undefined;
}

/**
 * What a signal with auth=sigv4 signs for: the overrides, else what its endpoint's host implies; a
 * ConfigError when neither says, or when CloudWatch Logs' required log group and stream headers are unset.
 */
export function sigv4ScopeFor(signal: Signal, config: OtlpSignalConfig & { readonly endpoint: string }): Sigv4Scope {
  const host = new URL(config.endpoint).hostname;
  const inferred = inferSigv4Scope(host);
  const region = config.sigv4Region ?? inferred?.region;
  const service = config.sigv4Service ?? inferred?.service;
  const auth = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_AUTH (or OTEL_EXPORTER_OTLP_AUTH)`;
  if (region === undefined || service === undefined) {
    throw new ConfigError(
      `${auth} is sigv4, but the ${signal} endpoint's host ${host} is not an AWS OTLP endpoint firetap knows: set FIRETAP_SIGV4_REGION and FIRETAP_SIGV4_SERVICE`,
    );
  }
  if (inferred?.service === 'logs') {
    const names = new Set(Object.keys(config.headers).map((name) => name.toLowerCase()));
    const missing = ['x-aws-log-group', 'x-aws-log-stream'].filter((name) => !names.has(name));
    if (missing.length > 0) {
      throw new ConfigError(
        `${auth} is sigv4 for CloudWatch Logs (${host}), which needs the ${missing.join(' and ')} header: set OTEL_EXPORTER_OTLP_LOGS_HEADERS=x-aws-log-group=<group>,x-aws-log-stream=<stream>`,
      );
    }
  }
  return { region, service };
}

type CredentialProvider = ReturnType<typeof fromNodeProviderChain>;

let defaultCredentials: CredentialProvider | undefined;

/**
 * Signs each request as sent (the body after compression) with the SDK's own SigV4 signer. The default
 * chain's provider is made once per process; it caches the credentials and refreshes them before they expire.
 */
export function createSigv4Signer(scope: Sigv4Scope, credentials?: CredentialProvider): SignHook {
  const provider = credentials ?? (defaultCredentials ??= fromNodeProviderChain());
  const signer = new SignatureV4({ ...scope, credentials: provider, sha256: Sha256 });
  return async ({ method, url, headers, body }) => {
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...headers, host: url.host },
      body,
    });
    return signed.headers;
  };
}
