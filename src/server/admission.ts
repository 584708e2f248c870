import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import { FiretapError } from '../errors.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { startPressureSampler, type PressureSampler } from './pressure.ts';

const overloaded = (message: string) => new FiretapError('FIRETAP_OVERLOADED', message, { retryable: true, retryAfterMs: 1000 });

/** One sampler per server, however many route scopes admit requests; stopped when the app closes. */
const samplers = new WeakMap<object, PressureSampler>();

/**
 * Bounded admission for the Firehose routes: called in their plugin's scope, so health, readiness and
 * metrics keep answering. Two bounds, so that a slow upload never holds what a prompt request needs:
 * `maxReceivingRequests` bodies being received, and `maxConcurrentRequests` requests processed — counted from
 * when the body has arrived (preHandler). A request beyond either, or any request while the event loop lags
 * or memory is above its limit, is answered 503 with Retry-After: quick, cheap, and retried by Firehose.
 * Before its body is read when it can be (processing full, receivers full, pressure). A body that does not
 * arrive within FIRETAP_BODY_TIMEOUT_MS closes the connection (connections.ts), which gives its slot back.
 * Registered after the access-key check, so an unauthenticated flood never takes a slot.
 */
export async function admission(app: FastifyInstance, opts: { config: Config; metrics: Metrics }): Promise<void> {
  const { config, metrics } = opts;
  let receiving = 0;
  let inFlight = 0;
  metrics.requestsInFlight.set(0);
  const held = new WeakMap<FastifyRequest, 'receiving' | 'processing'>();
  const pressure = sharedSampler(app, metrics);

  const shedIfProcessingFull = (reason: string) => {
    if (inFlight < config.maxConcurrentRequests) return;
    metrics.requestsShed.inc({ reason });
    throw overloaded(`firetap is processing ${inFlight} requests (FIRETAP_MAX_CONCURRENT_REQUESTS); retry later`);
  };

  app.addHook('onRequest', async (request, reply) => {
    const sample = pressure.current();
    for (const [type, value, limit] of [
      ['eventLoopDelay', sample.eventLoopDelay, config.maxEventLoopDelayMs],
      ['heapUsedBytes', sample.heapUsedBytes, config.maxHeapUsedBytes],
      ['rssBytes', sample.rssBytes, config.maxRssBytes],
    ] as const) {
      if (limit > 0 && value > limit) {
        metrics.requestsShed.inc({ reason: type });
        throw overloaded(`firetap is overloaded (${type}: ${Number.isFinite(value) ? Math.round(value) : value}); retry later`);
      }
    }
    shedIfProcessingFull('concurrency');
    if (receiving >= config.maxReceivingRequests) {
      metrics.requestsShed.inc({ reason: 'receiving' });
      throw overloaded(`firetap is receiving ${receiving} request bodies (FIRETAP_MAX_RECEIVING_REQUESTS); retry later`);
    }
    receiving++;
    held.set(request, 'receiving');
    // 'close' fires however the exchange ends: answered, failed, timed out or abandoned by the client.
    reply.raw.once('close', () => {
      const slot = held.get(request);
      held.delete(request);
      if (slot === 'receiving') receiving--;
      if (slot === 'processing') {
        inFlight--;
        metrics.requestsInFlight.set(inFlight);
      }
    });
  });

  // The body has arrived: from receiving to processing.
  app.addHook('preHandler', async (request) => {
    if (held.get(request) !== 'receiving') return;
    receiving--;
    held.delete(request);
    shedIfProcessingFull('concurrency');
    inFlight++;
    held.set(request, 'processing');
    metrics.requestsInFlight.set(inFlight);
  });
}

function sharedSampler(app: FastifyInstance, metrics: Metrics): PressureSampler {
  const existing = samplers.get(app.server);
  if (existing) return existing;
  let logged = false;
  const sampler = startPressureSampler((err) => {
    metrics.samplerErrors.inc({ sampler: 'memory' });
    if (logged) return;
    logged = true;
    app.log.warn({ err }, 'could not read memory use (counted in firetap_sampler_errors_total; logged once): the last value read is used meanwhile');
  });
  samplers.set(app.server, sampler);
  app.addHook('onClose', async () => sampler.stop());
  return sampler;
}
