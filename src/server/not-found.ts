import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorShape } from './error-handler.ts';

export interface RouteDescription {
  readonly path: string;
  /** What a person who opens the route in a browser or with curl is told it is for. */
  readonly purpose: string;
  /** How the route answers a failure (Firehose's JSON, or `{"error"}`): 404 and 405 use it too. */
  readonly shape: ErrorShape;
  /** A GET answers with the purpose (200) instead of 405: a load balancer's health check may point there. */
  readonly describedOnGet: boolean;
  /** Said to whoever used another method, e.g. "Firehose delivers with POST". */
  readonly methodHint: string;
}

const firstSegment = (path: string): string => path.slice(0, path.indexOf('/', 1) + 1) || path;

/**
 * Answers what no route took: a GET on a route described on GET learns what the route is for; another
 * method gets 405 with Allow; a path that shares its first segment with routes (`/firehose/metric`) gets
 * 404 in their shape, naming the one it most likely meant. `GET /` lists every route.
 */
export function createNotFoundHandler(routes: readonly RouteDescription[]) {
  const byPath = new Map(routes.map((r) => [r.path, r]));
  const listing = routes.map((r) => `POST ${r.path}`).join(', ');
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split('?')[0]!;
    const route = byPath.get(path);
    const read = request.method === 'GET' || request.method === 'HEAD';
    if (path === '/' && read) {
      return reply.send({
        service: 'firetap',
        routes: Object.fromEntries(routes.map((r) => [`POST ${r.path}`, r.purpose])),
        health: { liveness: '/healthz', readiness: '/readyz', metrics: '/metrics' },
      });
    }
    if (route?.describedOnGet && read) return reply.send({ route: path, method: 'POST', purpose: route.purpose, health: '/healthz' });
    if (route) {
      reply.code(405).header('allow', route.describedOnGet ? 'GET, HEAD, POST' : 'POST');
      return reply.send(route.shape(request, `${request.method} is not allowed on ${path}; ${route.methodHint}`));
    }
    const siblings = routes.filter((r) => firstSegment(r.path) === firstSegment(path));
    if (siblings.length > 0) {
      const near = siblings.find((r) => r.path.startsWith(path) || path.startsWith(r.path));
      return reply.code(404).send(siblings[0]!.shape(request, `no route ${path}${near ? `; did you mean ${near.path}?` : ''} firetap takes ${listing}`));
    }
    return reply.code(404).send({ error: `no route ${request.method} ${path}; firetap takes ${listing}` });
  };
}
