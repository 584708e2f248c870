import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EnrichmentStats } from '../enrich/enrichment-stats.ts';
import { FiretapError } from '../errors.ts';
import { exportError, logExportFailure } from '../export/exporter.ts';
import { createAccessKeyCheck } from '../server/access-keys.ts';
import { OtlpBatch } from '../otlp/batch.ts';
import { appendLogGroups } from '../otlp/log-records.ts';
import { encodedAttribute } from '../otlp/wire.ts';
import { deadLetterFailure } from '../pipeline/dead-letter.ts';
import type { PipelineDeps } from '../pipeline/delivery.ts';
import { ExportWindow } from '../pipeline/export-window.ts';
import { admission } from '../server/admission.ts';
import { createErrorHandler, plainShape } from '../server/error-handler.ts';
import type { RouteDescription } from '../server/not-found.ts';
import { countLookups } from '../telemetry/metrics.ts';
import { eventLogGroup, parseEvent } from './event.ts';

export const EVENTBRIDGE_ROUTE = '/eventbridge/events';

export const EVENTBRIDGE_ROUTE_DESCRIPTION: RouteDescription = {
  path: EVENTBRIDGE_ROUTE,
  purpose: 'the endpoint of an EventBridge API destination (HTTP method POST)',
  shape: plainShape,
  describedOnGet: false,
  methodHint: "set the API destination's HTTP method to POST",
};

/** EventBridge events are at most 256 KB; room for an input transformer's additions. */
const MAX_EVENT_BYTES = 1024 * 1024;

/** Why every event is refused while the route has no credentials to check. */
export const EVENTBRIDGE_CLOSED =
  "firetap has no EventBridge credentials: set FIRETAP_EVENTBRIDGE_API_KEYS (or FIRETAP_EVENTBRIDGE_BASIC_AUTH) to what the API destination's connection sends, or FIRETAP_EVENTBRIDGE_ALLOW_UNAUTHENTICATED=true to accept events without credentials";

/**
 * Authentication as an EventBridge connection sends it: an API key in a header of the connection's
 * choosing, or HTTP Basic. Closed when neither is configured — every event is refused with 401 naming the
 * settings — unless allowUnauthenticated says to accept anything (warned at start). Anyone who can reach the
 * route could otherwise write log records into the backend.
 */
function createEventAuth(config: PipelineDeps['config']['eventbridge']): ((request: FastifyRequest) => string | undefined) | undefined {
  const { apiKeyHeader, apiKeys, basicAuth } = config;
  if (apiKeys.length === 0 && basicAuth.length === 0) return config.allowUnauthenticated ? undefined : () => EVENTBRIDGE_CLOSED;
  const keyOk = createAccessKeyCheck(apiKeys);
  const basicOk = createAccessKeyCheck(basicAuth);
  const header = apiKeyHeader.toLowerCase();
  return (request) => {
    const key = request.headers[header];
    if (apiKeys.length > 0 && typeof key === 'string' && keyOk(key)) return undefined;
    const authorization = request.headers.authorization;
    if (basicAuth.length > 0 && typeof authorization === 'string' && /^basic /i.test(authorization)) {
      if (basicOk(Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8'))) return undefined;
      return 'invalid Basic credentials';
    }
    if (typeof key === 'string') return `invalid ${apiKeyHeader}`;
    return apiKeys.length > 0 ? `missing ${apiKeyHeader} header${basicAuth.length > 0 ? ' or Basic credentials' : ''}` : 'missing Basic credentials';
  };
}

/**
 * `POST /eventbridge/events`, the target of an EventBridge API destination. EventBridge sends one event
 * per call and waits 5 seconds at most; it retries 401, 409, 429 and 5xx answers (honouring Retry-After)
 * and sends anything else to the rule's dead-letter queue. So: 200 once the backend accepted the event;
 * 503 with Retry-After when the backend cannot take it in time; 400 for a body that is no event (kept
 * in firetap's dead-letter file too when one is configured). A retried event (same id and body) that was
 * already delivered is acknowledged without being sent twice.
 */
export async function eventBridgeRoutes(app: FastifyInstance, deps: PipelineDeps): Promise<void> {
  const { config, metrics } = deps;
  const settings = config.eventbridge;
  const resourceAttributes = Object.entries(config.resourceAttributes).map(([k, v]) => encodedAttribute(k, v));
  const check = createEventAuth(settings);

  app.setErrorHandler(createErrorHandler(plainShape));

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_EVENT_BYTES }, (_request, body, done) => done(null, body));

  if (check) {
    app.addHook('onRequest', async (request) => {
      const problem = check(request);
      if (problem) throw new FiretapError('FIRETAP_UNAUTHORIZED', problem);
    });
  }
  await admission(app, { config, metrics });

  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.inc({ route: EVENTBRIDGE_ROUTE, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ route: EVENTBRIDGE_ROUTE }, reply.elapsedTime / 1000);
    // Deliveries log themselves with the event's id; a refusal is the sender's to fix (warn), a failure ours or the backend's (error).
    if (reply.statusCode >= 400)
      request.log[reply.statusCode < 500 || request.firetapShed ? 'warn' : 'error'](
        { route: EVENTBRIDGE_ROUTE, status: reply.statusCode, latencyMs: Math.round(reply.elapsedTime), error: request.firetapError },
        'event not delivered',
      );
  });

  app.post(EVENTBRIDGE_ROUTE, async (request, reply) => {
    const receivedAtMs = Date.now();
    const text = typeof request.body === 'string' ? request.body : '';
    let parsed: ReturnType<typeof parseEvent>;
    try {
      parsed = parseEvent(text);
    } catch (err) {
      metrics.recordsRejected.inc({ signal: 'logs', reason: 'format' });
      if (deps.deadLetter) {
        try {
          await deps.deadLetter.write([
            {
              requestId: `eventbridge-${receivedAtMs}`,
              signal: 'logs',
              index: 0,
              reason: 'format',
              message: (err as Error).message,
              data: Buffer.from(text).toString('base64'),
            },
          ]);
        } catch (failed) {
          // Not kept: a retryable answer (EventBridge retries 5xx) rather than the 400 after which only the rule's queue, if any, keeps it.
          throw deadLetterFailure(deps.deadLetter, 'the event', failed);
        }
        metrics.deadLettered.inc({ signal: 'logs' });
      }
      throw err;
    }
    const eventId = parsed.event?.id;
    const ledger = await deps.ledger.entry(`eventbridge\u0000${eventId ?? ''}\u0000${createHash('sha256').update(text).digest('base64')}`);
    if (ledger.complete) return reply.send({ id: eventId ?? null, status: 'already delivered' });

    const stats = new EnrichmentStats();
    const batch = new OtlpBatch();
    appendLogGroups([eventLogGroup(text, parsed, { resourceAttributes, enrichment: deps.enrichment, stats })], batch, {
      observedAtMs: receivedAtMs,
      maxBatchBytes: Number.POSITIVE_INFINITY,
    });
    const { payload, items } = batch.take();
    metrics.items.inc({ signal: 'logs', stage: 'received' }, items);
    const window = new ExportWindow(metrics, receivedAtMs + settings.timeoutMs, 1, '/eventbridge/events');
    const result = await window.export(deps.exporters.logs, 'logs', payload, items, ledger.key);
    stats.settle();
    countLookups(metrics, 'logs', stats);
    if (result.status !== 'success') {
      logExportFailure(request.log, result, { route: EVENTBRIDGE_ROUTE, eventId });
      throw exportError(result);
    }
    await ledger.finish();
    request.log.info(
      { route: EVENTBRIDGE_ROUTE, eventId, source: parsed.event?.source, detailType: parsed.event?.['detail-type'], latencyMs: Date.now() - receivedAtMs },
      'delivered',
    );
    return reply.send({ id: eventId ?? null, status: 'delivered' });
  });
}
