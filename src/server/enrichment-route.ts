import type { FastifyInstance } from 'fastify';
import { FiretapError } from '../errors.ts';
import { createAccessKeyGuard } from './access-keys.ts';
import { lookupMetric, type IndexedResource, type ScopeIndex } from '../enrich/snapshot.ts';
import type { TagCache } from '../enrich/enrichment.ts';

export interface EnrichmentRouteOptions {
  readonly scraper: TagCache | undefined;
  readonly accessKeys: readonly string[];
}

const describe = (r: IndexedResource) => ({
  arn: r.arn,
  account: r.account,
  region: r.region,
  namespaces: r.namespaces,
  tags: r.tags,
  attributes: r.attributes,
  addedAttributes: r.added,
  discoveredBy: r.sources,
});

/**
 * GET /enrichment/resources — what the tag cache holds for a resource: the first thing to check when
 * a tag does not show up. `?arn=<arn>`, or `?namespace=AWS/EC2&dimension.InstanceId=i-…` (with optional
 * `account` and `region`). Protected by the Firehose access keys (X-Amz-Firehose-Access-Key).
 */
export async function enrichmentRoutes(app: FastifyInstance, opts: EnrichmentRouteOptions): Promise<void> {
  const requireKey = createAccessKeyGuard(opts.accessKeys);
  app.get('/enrichment/resources', async (request) => {
    requireKey(request);
    const scraper = opts.scraper;
    if (!scraper) throw new FiretapError('FIRETAP_NOT_FOUND', 'enrichment is off: set FIRETAP_ENRICHMENT_REGIONS to turn it on');
    const q = request.query as Record<string, string | undefined>;
    const scopes = scraper.allScopes().filter((s) => (!q.account || s.account === q.account) && (!q.region || s.region === q.region));
    let matches: IndexedResource[];
    if (q.arn) {
      matches = scopes.flatMap((s) => s.byArn.get(q.arn!) ?? []);
    } else if (q.namespace) {
      const dims = new Map(
        Object.entries(q)
          .filter(([k, v]) => k.startsWith('dimension.') && v !== undefined)
          .map(([k, v]) => [k.slice('dimension.'.length), v!]),
      );
      if (dims.size === 0) throw new FiretapError('FIRETAP_BAD_REQUEST', 'give at least one dimension.<Name>=<value> with namespace');
      matches = scopes.flatMap((s) => lookupMetric(s, q.namespace!, dims) ?? []);
    } else {
      throw new FiretapError('FIRETAP_BAD_REQUEST', 'give ?arn=<resource ARN> or ?namespace=<CloudWatch namespace>&dimension.<Name>=<value>');
    }
    const held = scraper.held();
    return {
      snapshot: { version: held.version ?? null, ageSeconds: held.ageSeconds === undefined ? null : Math.round(held.ageSeconds), leader: held.leader },
      snapshots: scopes.map((s: ScopeIndex) => ({
        account: s.account,
        region: s.region,
        resources: s.byArn.size,
        ageSeconds: Math.round((Date.now() - s.fetchedAt) / 1000),
        stale: s.stale,
      })),
      resources: matches.map(describe),
    };
  });
}
