import { lookupCacheOf, type LookupCache } from './lookup-cache.ts';
import type { ScopeIndex } from './snapshot.ts';

/**
 * One request's hits and misses per namespace, added to the metrics once the request is done. Data points
 * count on the shared tallies of the lookups they used; settle() moves those counts here. Requests in
 * flight at the same time may settle each other's counts: the totals are what the metrics need, and they
 * are exact.
 */
export class EnrichmentStats {
  readonly hits = new Map<string, number>();
  readonly misses = new Map<string, number>();
  private readonly caches = new Set<LookupCache>();

  /** The lookup cache of a scope this request's data points use. */
  lookupCache(scope: ScopeIndex): LookupCache {
    const cache = lookupCacheOf(scope);
    this.caches.add(cache);
    return cache;
  }

  /** Folds the tallies of the caches this request used into hits and misses. */
  settle(): void {
    for (const cache of this.caches) {
      for (const tally of cache.tallies.values()) {
        const uses = cache.counts[tally.index]!;
        if (uses === 0) continue;
        this.add(tally.namespace, tally.hit, uses);
        cache.counts[tally.index] = 0;
      }
    }
  }

  /** Counts `n` data points or records of `namespace` as hits or misses. */
  add(namespace: string, hit: boolean, n: number): void {
    const counts = hit ? this.hits : this.misses;
    counts.set(namespace, (counts.get(namespace) ?? 0) + n);
  }

  hit(namespace: string): void {
    this.add(namespace, true, 1);
  }

  miss(namespace: string): void {
    this.add(namespace, false, 1);
  }
}
