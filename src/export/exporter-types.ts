import type { Writable } from 'node:stream';
import { ConfigError } from '../config/load.ts';
import type { Config, ExporterType, Signal } from '../config/schema.ts';
import { createDebugExporter } from './debug.ts';
import type { Exporter } from './exporter.ts';
import { createOtlpHttpExporter } from './otlp-http.ts';
import { createRemoteWriteExporter } from './prometheus-remote-write.ts';

/** What a factory may use to build one signal's exporter. */
export interface ExporterContext {
  readonly signal: Signal;
  readonly config: Config;
  /** Identifies firetap to a backend. */
  readonly userAgent: string;
  /** Where the debug exporter writes; stdout when undefined. */
  readonly debugOutput: Writable | undefined;
  /** Wraps a one-attempt exporter in the process-wide in-flight limit and in retries with backoff (counted). */
  readonly reliable: (oneAttempt: Exporter) => Exporter;
}

/** Builds one exporter of its type, or throws a ConfigError naming the setting it is missing. */
export type ExporterFactory = (context: ExporterContext) => Exporter;

/** The setting that lists a signal's exporter types, as an error message names it. */
export function exportersSetting(signal: Signal): string {
  return `FIRETAP_${signal.toUpperCase()}_EXPORTERS (${signal}.exporters)`;
}

/** Every exporter type, by the name FIRETAP_METRICS_EXPORTERS / FIRETAP_LOGS_EXPORTERS list it by. */
export const EXPORTER_FACTORIES: Readonly<Record<ExporterType, ExporterFactory>> = {
  'otlp-http': ({ signal, config, userAgent, reliable }) => {
    const c = config.otlp[signal];
    if (c.endpoint === undefined) {
      throw new ConfigError(
        `${exportersSetting(signal)} lists otlp-http, but no OTLP endpoint is set for ${signal}: set OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`,
      );
    }
    const logGroupFromSource = signal === 'logs' && config.logs.cloudWatchLogGroup === 'source';
    return reliable(createOtlpHttpExporter({ signal, config: { ...c, endpoint: c.endpoint }, userAgent, logGroupFromSource }));
  },
  'prometheus-remote-write': ({ signal, config, userAgent, reliable }) => {
    const c = config.prometheusRemoteWrite;
    if (signal !== 'metrics') {
      throw new ConfigError(`${exportersSetting(signal)} lists prometheus-remote-write, which takes metrics only: list it in FIRETAP_METRICS_EXPORTERS`);
    }
    if (c.url === undefined) {
      throw new ConfigError(`${exportersSetting(signal)} lists prometheus-remote-write, but no URL is set: set FIRETAP_PROMETHEUS_REMOTE_WRITE_URL`);
    }
    return reliable(createRemoteWriteExporter({ config: { ...c, url: c.url }, naming: config.metrics.naming, userAgent }));
  },
  debug: ({ debugOutput }) => createDebugExporter(debugOutput),
};
