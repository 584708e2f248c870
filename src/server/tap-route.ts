import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { SIGNALS, type Signal } from '../config/schema.ts';
import { badRequest, FiretapError } from '../errors.ts';
import type { Tap, TapEnd, TapFilter, TapHub } from '../export/tap.ts';
import { createAccessKeyGuard } from './access-keys.ts';

export interface TapRouteOptions {
  /** Undefined when FIRETAP_TAP is off. */
  readonly hub: TapHub | undefined;
  readonly accessKeys: readonly string[];
}

export const TAP_ROUTES = ['/firehose/metrics', '/firehose/logs', '/firehose/traces', '/eventbridge/events'] as const;
const MAX_SECONDS = 300;
const MAX_LIMIT = 100_000;
/** How long an ended stream may take to reach a client that stopped reading before its socket is closed. */
const FLUSH_GRACE_MS = 5000;

interface TapQuery {
  readonly filter: TapFilter;
  readonly limit: number;
  readonly seconds: number;
}

function intParam(text: string | undefined, name: string, fallback: number, max: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`${name} must be an integer from 1 to ${max}, not ${JSON.stringify(text.slice(0, 40))}`);
  return n;
}

export function parseTapQuery(q: Record<string, string | undefined>): TapQuery {
  const { signal, route } = q;
  if (signal !== undefined && !(SIGNALS as readonly string[]).includes(signal))
    throw badRequest(`signal must be one of ${SIGNALS.join(', ')}, not ${JSON.stringify(signal.slice(0, 40))}`);
  if (route !== undefined && !(TAP_ROUTES as readonly string[]).includes(route))
    throw badRequest(`route must be one of ${TAP_ROUTES.join(', ')}, not ${JSON.stringify(route.slice(0, 80))}`);
  return {
    filter: { ...(signal ? { signal: signal as Signal } : {}), ...(route ? { route } : {}) },
    limit: intParam(q.limit, 'limit', 1000, MAX_LIMIT),
    seconds: intParam(q.seconds, 'seconds', 30, MAX_SECONDS),
  };
}

/**
 * GET /debug/tap — streams, as newline-delimited JSON, the records firetap exports while the tap is open: the
 * debug exporter's lines, `{"dropped": N}` when the client read too slowly to get them all, and a summary line
 * at the end. Off unless FIRETAP_TAP is on; protected by the Firehose access keys.
 */
export async function tapRoutes(app: FastifyInstance, opts: TapRouteOptions): Promise<void> {
  const requireKey = createAccessKeyGuard(opts.accessKeys);
  const { hub } = opts;
  if (hub) app.addHook('preClose', async () => hub.endAll());
  app.get('/debug/tap', async (request, reply) => {
    requireKey(request);
    if (!hub) throw new FiretapError('FIRETAP_NOT_FOUND', 'the live tap is off: set FIRETAP_TAP=on to turn it on');
    const query = parseTapQuery(request.query as Record<string, string | undefined>);
    const tap = hub.attach(query.filter);
    if (!tap)
      throw new FiretapError('FIRETAP_OVERLOADED', `${hub.maxTaps} taps are connected already, the most at once: close one or wait for one to end`, {
        retryAfterMs: 5000,
      });
    reply.hijack();
    try {
      await stream(tap, query, reply.raw);
    } finally {
      hub.detach(tap);
    }
    return reply;
  });
}

async function stream(tap: Tap, query: TapQuery, res: ServerResponse): Promise<void> {
  const started = Date.now();
  const timer = setTimeout(() => tap.end('seconds'), query.seconds * 1000);
  const ended = new Promise<void>((resolve) => {
    res.on('close', () => {
      tap.end('disconnected');
      resolve();
    });
  });
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.flushHeaders();
  let lines = 0;
  let dropped = 0;
  const droppedLine = (): string => {
    const n = tap.takeDropped();
    dropped += n;
    return n > 0 ? `${JSON.stringify({ dropped: n })}\n` : '';
  };
  try {
    while (!tap.ended) {
      await tap.ready();
      if (tap.ended) break;
      const batch = tap.take(query.limit - lines);
      lines += batch.length;
      const text = droppedLine() + (batch.length > 0 ? `${batch.join('\n')}\n` : '');
      if (lines >= query.limit) tap.end('limit');
      if (text !== '' && !res.write(text)) await Promise.race([once(res, 'drain'), ended, tap.done]);
    }
  } finally {
    clearTimeout(timer);
  }
  if (res.destroyed) return;
  const reason: TapEnd = tap.ended ?? 'shutdown';
  const tail = droppedLine();
  const summary = { summary: { lines, dropped, seconds: Math.round((Date.now() - started) / 100) / 10, ended: reason } };
  res.end(`${tail}${JSON.stringify(summary)}\n`);
  if (reason === 'shutdown' && res.writableNeedDrain) res.destroy();
  else if (!res.writableFinished) setTimeout(() => res.destroy(), FLUSH_GRACE_MS).unref();
}
