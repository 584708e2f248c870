import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { buildScopeIndex, scopeKey, type DiscoveredResource, type ScopeIndex, type TagFilter } from './snapshot.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The layout of a published snapshot; a replica refuses one of another layout (and keeps what it serves). */
const FORMAT = 1;

interface WireScope {
  readonly account: string;
  readonly region: string;
  readonly fetchedAt: number;
  readonly stale: boolean;
  readonly resources: readonly DiscoveredResource[];
}

/** A tag snapshot as the leader publishes it: the discovered resources of every scope, as gzipped JSON. */
export async function encodeSnapshot(scopes: ReadonlyMap<string, ScopeIndex>): Promise<Buffer> {
  const wire: WireScope[] = [...scopes.values()].map((s) => ({
    account: s.account,
    region: s.region,
    fetchedAt: s.fetchedAt,
    stale: s.stale,
    resources: [...s.byArn.values()].map((r) => ({ arn: r.arn, tags: r.tags, attributes: r.attributes, sources: r.sources })),
  }));
  return gzipAsync(JSON.stringify({ format: FORMAT, scopes: wire }));
}

/** A published snapshot, indexed here (with this replica's tag filter) as the scraper would have. */
export async function decodeSnapshot(data: Buffer, filter: TagFilter): Promise<Map<string, ScopeIndex>> {
  const parsed = JSON.parse((await gunzipAsync(data)).toString('utf8')) as { format?: unknown; scopes?: WireScope[] };
  if (parsed.format !== FORMAT || !Array.isArray(parsed.scopes)) {
    throw new Error(
      `tag snapshot of format ${JSON.stringify(parsed.format)}, this version reads format ${FORMAT}: a replica of another firetap version published it`,
    );
  }
  const scopes = new Map<string, ScopeIndex>();
  for (const s of parsed.scopes) {
    scopes.set(scopeKey(s.account, s.region), { ...buildScopeIndex(s.account, s.region, s.resources, filter, s.fetchedAt), stale: s.stale });
  }
  return scopes;
}
