import type { Writable } from 'node:stream';
import type { Config, ExporterType, Signal } from '../config/schema.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { VERSION } from '../version.ts';
import { createConcurrencyLimit } from './concurrency-limit.ts';
import type { Exporter } from './exporter.ts';
import { EXPORTER_FACTORIES, type ExporterContext } from './exporter-types.ts';
import { createFanOut } from './fan-out.ts';
import { createJsonPostExporter } from './json-post.ts';
import { createRetryingExporter, type RetryOptions } from './retrying.ts';
import { withSpanLimits } from './span-limits.ts';
import type { TapHub } from './tap.ts';
import { withYaceNames } from './yace-otlp.ts';
import type { LedgerStore } from '../state/ledger-store.ts';

export interface ExporterOptions {
  /** Where the debug exporter writes; stdout unless a test says otherwise. */
  readonly debugOutput?: Writable;
  readonly retry?: RetryOptions;
  /** The live tap (FIRETAP_TAP): each signal's exporter is wrapped to feed it. */
  readonly tap?: TapHub;
  /** Where a fan-out remembers which members accepted a batch, when the replicas share a state store. */
  readonly fanOutStore?: LedgerStore | undefined;
}

/**
 * A signal's exporter types: as configured, else otlp-http when its OTLP endpoint is set and, for metrics,
 * prometheus-remote-write when its URL is set (both: a fan-out), else debug.
 */
export function exporterTypes(config: Config, signal: Signal): readonly ExporterType[] {
  const configured = config[signal].exporters;
  if (configured) return configured;
  const types: ExporterType[] = [];
  if (config.otlp[signal].endpoint !== undefined) types.push('otlp-http');
  if (signal === 'metrics' && config.prometheusRemoteWrite.url !== undefined) types.push('prometheus-remote-write');
  return types.length === 0 ? ['debug'] : types;
}

/**
 * One exporter per signal, built by type (EXPORTER_FACTORIES): each attempt of a sending one within the
 * shared in-flight limit, retried with backoff until the request's deadline; several types per signal
 * are one fan-out that succeeds when all of them accepted.
 */
export function createExporters(config: Config, metrics: Metrics, options: ExporterOptions = {}): Record<Signal, Exporter> {
  const limit = createConcurrencyLimit(config.export.maxInFlight);
  const build = (signal: Signal): Exporter => {
    const context: ExporterContext = {
      signal,
      config,
      userAgent: `firetap/${VERSION}`,
      debugOutput: options.debugOutput,
      reliable: (oneAttempt) =>
        createRetryingExporter(limit.wrap(oneAttempt), {
          ...options.retry,
          onRetry: (request, result, delayMs) => {
            metrics.exportRetries.inc({ signal });
            options.retry?.onRetry?.(request, result, delayMs);
          },
        }),
    };
    const members = exporterTypes(config, signal).map((type) => {
      const made = EXPORTER_FACTORIES[type](context);
      const limited = signal === 'traces' ? withSpanLimits(made, config.traces.maxBatchSpans, config.export.maxBatchBytes) : made;
      const exporter = counted(limited, (outcome) => metrics.exporterFailures.inc({ signal, exporter: type, outcome }));
      // Remote write names its series itself; every other metrics exporter is given YACE's names when asked.
      return signal === 'metrics' && config.metrics.naming === 'yace' && type !== 'prometheus-remote-write' ? withYaceNames(exporter) : exporter;
    });
    const exporter = members.length === 1 ? members[0]! : createFanOut(members, options.fanOutStore ? { store: options.fanOutStore } : {});
    return options.tap ? options.tap.wrap(exporter) : exporter;
  };
  return { metrics: build('metrics'), logs: build('logs'), traces: build('traces') };
}

/** Reports each request an exporter did not accept in the end (its retries done), so each member of a fan-out is counted apart. */
function counted(exporter: Exporter, failed: (outcome: 'retryable' | 'permanent') => void): Exporter {
  return {
    async export(request) {
      const result = await exporter.export(request);
      if (result.status !== 'success') failed(result.status);
      return result;
    },
    shutdown: () => exporter.shutdown(),
  };
}

/** The billing endpoint meter records are POSTed to (as a JSON array), retried like an OTLP export; none when unset. */
export function createMeterEndpoint(config: Config, metrics: Metrics, options: ExporterOptions = {}): Exporter | undefined {
  const { endpoint, headers, timeoutMs } = config.meters;
  if (!endpoint) return undefined;
  const http = createJsonPostExporter({ name: 'meter endpoint', endpoint, headers, timeoutMs, userAgent: `firetap/${VERSION}` });
  return createRetryingExporter(http, {
    ...options.retry,
    onRetry: () => metrics.exportRetries.inc({ signal: 'meters' }),
  });
}
