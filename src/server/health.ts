import type { FastifyInstance } from 'fastify';

/** What the probes report. `draining` is set on SIGTERM so that load balancers stop sending. */
export interface Lifecycle {
  draining: boolean;
  /** False while a component still warms up (the first tag snapshot, for a bounded time). */
  ready: () => boolean;
}

export async function healthRoutes(app: FastifyInstance, lifecycle: Lifecycle): Promise<void> {
  // Liveness: the process answers. Never fails while draining, or Kubernetes would kill the drain.
  app.get('/healthz', async () => ({ status: 'ok' }));
  // Readiness: willing to take new traffic.
  app.get('/readyz', async (_request, reply) => {
    if (lifecycle.draining) return reply.code(503).send({ status: 'draining' });
    if (!lifecycle.ready()) return reply.code(503).send({ status: 'waiting for the first tag snapshot' });
    return { status: 'ready' };
  });
}
