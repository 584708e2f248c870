import type { FastifyInstance } from 'fastify';
import type { SnapshotHeld } from '../enrich/enrichment.ts';

/** What the probes report. `draining` is set on SIGTERM so that load balancers stop sending. */
export interface Lifecycle {
  draining: boolean;
  /** False while a component still warms up (the first tag snapshot, for a bounded time). */
  ready: () => boolean;
  /** Which tag snapshot this replica serves, when enrichment is on. */
  snapshot?: () => SnapshotHeld;
}

export async function healthRoutes(app: FastifyInstance, lifecycle: Lifecycle): Promise<void> {
  // Liveness: the process answers. Never fails while draining, or Kubernetes would kill the drain.
  app.get('/healthz', async () => ({ status: 'ok' }));
  // Readiness: willing to take new traffic.
  app.get('/readyz', async (_request, reply) => {
    const held = lifecycle.snapshot?.();
    // Which snapshot a replica serves and how old it is: replicas of one fleet should agree on the version.
    const snapshot = held && {
      snapshot: { version: held.version ?? null, ageSeconds: held.ageSeconds === undefined ? null : Math.round(held.ageSeconds), leader: held.leader },
    };
    if (lifecycle.draining) return reply.code(503).send({ status: 'draining' });
    if (!lifecycle.ready()) return reply.code(503).send({ status: 'waiting for the first tag snapshot', ...snapshot });
    return { status: 'ready', ...snapshot };
  });
}
