import type { FastifyReply, FastifyRequest } from 'fastify';
import { firehoseResponse } from '../firehose/response.ts';
import { requestIdOf } from './error-handler.ts';

export interface RouteDescription {
  readonly path: string;
  /** What a person who opens the route in a browser or with curl is told it is for. */
  readonly purpose: string;
  /** Answers in Firehose's JSON shape (requestId, timestamp, errorMessage) rather than `{"error"}`. */
  readonly firehose: boolean;
}

const FIREHOSE_PREFIX = '/firehose/';

/**
 * Answers what no route took: a GET on a Firehose route (a person with curl, a load balancer's health
 * check) learns what the route is for; another method gets 405 with Allow; a path under /firehose/ that
 * does not exist gets 404 in Firehose's shape, naming the routes that do. `GET /` lists every route.
 */
export function createNotFoundHandler(routes: readonly RouteDescription[]) {
  const byPath = new Map(routes.map((r) => [r.path, r]));
  const listing = routes.map((r) => `POST ${r.path}`).join(', ');
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split('?')[0]!;
    const route = byPath.get(path);
    const read = request.method === 'GET' || request.method === 'HEAD';
    if (path === '/' && read) {
      return reply.send({ service: 'firetap', routes: Object.fromEntries(routes.map((r) => [`POST ${r.path}`, r.purpose])), health: { liveness: '/healthz', readiness: '/readyz', metrics: '/metrics' } });
    }
    if (route?.firehose && read) {
      return reply.send({ route: path, method: 'POST', purpose: route.purpose, health: '/healthz' });
    }
    if (route) {
      const message = `${request.method} is not allowed on ${path}; ${route.firehose ? 'Firehose delivers with POST' : "set the API destination's HTTP method to POST"}`;
      reply.code(405).header('allow', route.firehose ? 'GET, HEAD, POST' : 'POST');
      return reply.send(route.firehose ? firehoseResponse(requestIdOf(request), message) : { error: message });
    }
    if (path.startsWith(FIREHOSE_PREFIX)) {
      const near = routes.find((r) => r.firehose && (r.path.startsWith(path) || path.startsWith(r.path)));
      const message = `no route ${path}${near ? `; did you mean ${near.path}?` : ''} firetap takes ${listing}`;
      return reply.code(404).send(firehoseResponse(requestIdOf(request), message));
    }
    return reply.code(404).send({ error: `no route ${request.method} ${path}; firetap takes ${listing}` });
  };
}
