import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import { FiretapError } from '../errors.ts';
import type { Metrics } from '../telemetry/metrics.ts';

/**
 * Bounded admission for the Firehose routes: called in their plugin's scope, so health, readiness and
 * metrics keep answering. A request beyond `maxConcurrentRequests`, or any request while the event loop lags or
 * memory is above its limit (@fastify/under-pressure), is answered 503 with Retry-After before its body
 * is read: quick, cheap, and retried by Firehose. Registered after the access-key check, so an
 * unauthenticated flood never takes a slot.
 */
export async function admission(app: FastifyInstance, opts: { config: Config; metrics: Metrics }): Promise<void> {
  const { config, metrics } = opts;
  let inFlight = 0;
  metrics.requestsInFlight.set(0);

  await app.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.maxHeapUsedBytes,
    maxRssBytes: config.maxRssBytes,
    retryAfter: 1,
    // A rejected promise hands the error to the route's error handler: a Firehose 503 with Retry-After.
    pressureHandler: (_request: FastifyRequest, _reply: FastifyReply, type: string, value: number | undefined) => {
      metrics.requestsShed.inc({ reason: type });
      return Promise.reject(new FiretapError('FIRETAP_OVERLOADED', `firetap is overloaded (${type}: ${Math.round(value ?? 0)}); retry later`, { retryable: true, retryAfterMs: 1000 }));
    },
  });

  app.addHook('onRequest', async (_request, reply) => {
    if (inFlight >= config.maxConcurrentRequests) {
      metrics.requestsShed.inc({ reason: 'concurrency' });
      throw new FiretapError('FIRETAP_OVERLOADED', `firetap is processing ${inFlight} requests (FIRETAP_MAX_CONCURRENT_REQUESTS); retry later`, { retryable: true, retryAfterMs: 1000 });
    }
    inFlight++;
    metrics.requestsInFlight.set(inFlight);
    // 'close' fires however the exchange ends: answered, failed or abandoned by the client.
    reply.raw.once('close', () => {
      inFlight--;
      metrics.requestsInFlight.set(inFlight);
    });
  });
}
