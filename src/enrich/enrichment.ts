import type { IndexedResource, ScopeIndex } from './snapshot.ts';

/** What the request path sees of the tag cache: memory lookups only, never a call to AWS. */
export interface Enrichment {
  /** The index of one account and region, or undefined when enrichment knows nothing there. */
  scope(account: string, region: string): ScopeIndex | undefined;
}

/** A lookup made once per request: the namespace (for the hit/miss counts) and what it found. */
export interface CachedLookup {
  /** The encoded Namespace attribute and Dimensions list this lookup was made for (to tell apart two of one hash). */
  readonly namespaceBytes: Uint8Array;
  readonly dimensions: Uint8Array;
  readonly namespace: string;
  readonly resource: IndexedResource | undefined;
  /** Data points that used this lookup (counted here, added to hits or misses at the end). */
  uses: number;
}

/** FNV-1a hash of the encoded Namespace attribute and Dimensions list → the lookups of that hash. */
export type LookupCache = Map<number, CachedLookup[]>;

/**
 * One request's view of the cache: hits and misses per namespace (added to the metrics once the request
 * is done), and the lookups already made — data points of one resource repeat across metrics, so each
 * distinct (namespace, dimensions) is looked up once per request.
 */
export class EnrichmentStats {
  readonly hits = new Map<string, number>();
  readonly misses = new Map<string, number>();
  private readonly lookups = new Map<ScopeIndex, LookupCache>();

  /** The lookups already made in one scope. */
  lookupCache(scope: ScopeIndex): LookupCache {
    let cache = this.lookups.get(scope);
    if (!cache) this.lookups.set(scope, (cache = new Map()));
    return cache;
  }

  /** Folds the per-lookup use counts into hits and misses. */
  settle(): void {
    for (const cache of this.lookups.values()) {
      for (const candidates of cache.values()) {
        for (const found of candidates) {
          if (found.uses === 0) continue;
          const counts = found.resource ? this.hits : this.misses;
          counts.set(found.namespace, (counts.get(found.namespace) ?? 0) + found.uses);
          found.uses = 0;
        }
      }
    }
  }

  hit(namespace: string): void {
    this.hits.set(namespace, (this.hits.get(namespace) ?? 0) + 1);
  }

  miss(namespace: string): void {
    this.misses.set(namespace, (this.misses.get(namespace) ?? 0) + 1);
  }
}
