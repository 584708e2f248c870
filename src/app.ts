import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Writable } from 'node:stream';
import type { Config } from './config/schema.ts';
import type { Exporter } from './export/exporter.ts';
import { createExporters, createMeterEndpoint } from './export/registry.ts';
import type { RetryOptions } from './export/retrying.ts';
import { FIREHOSE_ROUTE_DESCRIPTIONS, firehoseRoutes } from './firehose/route.ts';
import { compileLogOptions } from './decode/log-options.ts';
import { MeterDeduplicator } from './decode/meter-records.ts';
import { openDeadLetter } from './pipeline/open-dead-letter.ts';
import { DecodePool } from './pipeline/decode-pool.ts';
import { tagFilterOf } from './enrich/snapshot.ts';
import { BufferPool } from './memory/buffer-pool.ts';
import { MemoryBudget } from './memory/memory-budget.ts';
import { healthRoutes, type Lifecycle } from './server/health.ts';
import { httpsOptions } from './server/tls.ts';
import { connectionLimits, createClientErrorHandler, guardConnections, httpTimeouts, openFileLimit } from './server/connections.ts';
import { loggerOptions, stdoutLog } from './telemetry/logger.ts';
import { createMetrics, type Metrics } from './telemetry/metrics.ts';
import type { Signal } from './config/schema.ts';
import { enrichmentRoutes } from './server/enrichment-route.ts';
import { tapRoutes } from './server/tap-route.ts';
import { TapHub } from './export/tap.ts';
import { EVENTBRIDGE_ROUTE_DESCRIPTION, eventBridgeRoutes } from './eventbridge/route.ts';
import { createNotFoundHandler } from './server/not-found.ts';
import { createErrorHandler, plainShape } from './server/error-handler.ts';
import type { TagScraper } from './enrich/scraper.ts';
import type { TagCache } from './enrich/enrichment.ts';
import { openFleetState } from './server/fleet-state.ts';

/**
 * Bytes of free buffers kept for the next requests: a body and an export batch each for 8 requests of
 * ~1 MiB in flight (Firehose's default buffer size is 1–5 MiB); larger ones go back to the garbage collector.
 */
const POOLED_BUFFER_BYTES = 32 * 1024 * 1024;

export interface BuildOptions {
  /** Where logs go (default stdout); tests pass a stream to read them. */
  readonly logStream?: Writable;
  /** Where the debug exporter prints (default stdout). */
  readonly debugOutput?: Writable;
  readonly retry?: RetryOptions;
  /** Replaces the configured exporters (narrow tests only). */
  readonly exporters?: Record<Signal, Exporter>;
  /** Replaces the tag scraper (narrow tests only). */
  readonly scraper?: TagScraper;
}

export interface Firetap {
  readonly app: FastifyInstance;
  readonly lifecycle: Lifecycle;
  readonly metrics: Metrics;
  /** The background tag cache (this process's scraper, or the fleet's), when enrichment is on; main.ts starts it. */
  readonly scraper: TagCache | undefined;
}

/** Builds the service without listening: tests inject requests into it, main.ts listens. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<Firetap> {
  const https = httpsOptions(config);
  const logger = loggerOptions(config.logLevel);
  const metrics = createMetrics();
  const fileLimit = openFileLimit();
  const limits = connectionLimits(config, fileLimit);
  const timeouts = httpTimeouts(limits);
  const app = Fastify({
    // The head and body timeouts are node's own (headersTimeout, requestTimeout), passed to its server.
    ...(https ? { https: { ...https, ...timeouts } } : { http: timeouts }),
    requestTimeout: timeouts.requestTimeout,
    clientErrorHandler: createClientErrorHandler(limits, metrics),
    logger: { ...logger, stream: options.logStream ?? stdoutLog() },
    // One log line per Firehose request comes from the route's own onResponse hook instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Longer than an ALB's default 60 s idle timeout, so the load balancer closes idle connections first
    // (the other way round, it may send a request on a connection we are closing and answer 502).
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  guardConnections(app.server, { limits, fileLimit, tls: https !== undefined, metrics, log: app.log });

  const lifecycle: Lifecycle = { draining: false, ready: () => true };
  const tap = config.tap ? new TapHub() : undefined;
  // Without FIRETAP_STATE_URL, this process's memory; with it, what the replicas share.
  const fleet = await openFleetState(config, metrics, app.log);
  const exporters =
    options.exporters ??
    createExporters(config, metrics, {
      ...(options.debugOutput ? { debugOutput: options.debugOutput } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(tap ? { tap } : {}),
      fanOutStore: fleet.fanOutStore,
    });
  const deadLetter = await openDeadLetter(config);
  // The AWS SDK clients weigh ~150 MB of memory once loaded: only when enrichment is on.
  const TagScraperClass = config.enrichment.regions.length > 0 ? (await import('./enrich/scraper.ts')).TagScraper : undefined;
  const scraper: TagCache | undefined =
    options.scraper ?? (TagScraperClass && fleet.tagCache((extra) => new TagScraperClass({ config: config.enrichment, metrics, log: app.log, ...extra })));
  if (scraper) {
    lifecycle.ready = () => scraper.ready();
    lifecycle.snapshot = () => scraper.held();
  }

  // While draining, every answer closes its connection: keep-alive clients (the ALB, Firehose) reconnect
  // to another replica, and the listener can close without waiting for idle sockets to time out.
  app.addHook('onSend', async (_request, reply) => {
    if (lifecycle.draining) reply.header('connection', 'close');
  });
  app.decorateRequest('firetapRequestId', undefined);
  app.decorateRequest('firetapError', undefined);
  app.decorateRequest('firetapShed', false);
  // Routes without a shape of their own (the enrichment lookup) answer errors as {"error": "…"}.
  app.setErrorHandler(createErrorHandler(plainShape));
  await app.register(healthRoutes, lifecycle);
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  const meterRecords = config.meters.enabled
    ? {
        marker: config.meters.marker,
        dedupe: new MeterDeduplicator(config.meters.dedupeWindowSeconds * 1000),
        shared: fleet.meterIds,
        endpoint: createMeterEndpoint(config, metrics),
      }
    : undefined;
  const decoders =
    config.decodeThreads > 0
      ? new DecodePool(config.decodeThreads, {
          log: app.log,
          enrichment: scraper,
          filter: tagFilterOf(config.enrichment),
          onRestart: () => metrics.decodeThreadRestarts.inc(),
          onRunning: (n) => metrics.decodeThreadsRunning.set(n),
        })
      : undefined;
  const memory = new MemoryBudget(config.memoryBudgetBytes, () => metrics.requestsShed.inc({ reason: 'memory' }));
  metrics.setMemoryBudget(() => ({ limit: memory.limit, inUse: memory.inUse }));
  const pipeline = {
    config,
    exporters,
    metrics,
    deadLetter,
    enrichment: scraper,
    ledger: fleet.ledger,
    buffers: new BufferPool(POOLED_BUFFER_BYTES),
    logs: compileLogOptions({ ...config.logs, spanLogGroups: config.traces.logGroups }),
    meterRecords,
    decoders,
    memory,
  };
  await app.register(firehoseRoutes, pipeline);
  await app.register(eventBridgeRoutes, pipeline);
  await app.register(enrichmentRoutes, { scraper, accessKeys: config.accessKeys });
  await app.register(tapRoutes, { hub: tap, accessKeys: config.accessKeys });

  app.setNotFoundHandler(createNotFoundHandler([...FIREHOSE_ROUTE_DESCRIPTIONS, EVENTBRIDGE_ROUTE_DESCRIPTION]));
  app.addHook('onClose', async () => {
    await Promise.all([...Object.values(exporters).map((e) => e.shutdown()), scraper?.stop(), decoders?.close()]);
    await fleet.close();
  });
  return { app, lifecycle, metrics, scraper };
}
