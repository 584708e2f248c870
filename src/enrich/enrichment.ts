import type { IndexedResource, ScopeIndex } from './snapshot.ts';

/** What the request path sees of the tag cache: memory lookups only, never a call to AWS. */
export interface Enrichment {
  /** The index of one account and region, or undefined when enrichment knows nothing there. */
  scope(account: string, region: string): ScopeIndex | undefined;
}

/** A lookup made once per request: the namespace (for the hit/miss counts) and what it found. */
export interface CachedLookup {
  readonly namespace: string;
  readonly resource: IndexedResource | undefined;
}

/**
 * One request's view of the cache: hits and misses per namespace (added to the metrics once the request
 * is done), and the lookups already made — data points of one resource repeat across metrics, so each
 * distinct (namespace, dimensions) is looked up once per request.
 */
export class EnrichmentStats {
  readonly hits = new Map<string, number>();
  readonly misses = new Map<string, number>();
  private readonly lookups = new WeakMap<ScopeIndex, Map<string, CachedLookup>>();

  lookupCache(scope: ScopeIndex): Map<string, CachedLookup> {
    let cache = this.lookups.get(scope);
    if (!cache) this.lookups.set(scope, (cache = new Map()));
    return cache;
  }

  hit(namespace: string): void {
    this.hits.set(namespace, (this.hits.get(namespace) ?? 0) + 1);
  }

  miss(namespace: string): void {
    this.misses.set(namespace, (this.misses.get(namespace) ?? 0) + 1);
  }
}
