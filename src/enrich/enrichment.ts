import type { IndexedResource, ScopeIndex } from './snapshot.ts';

/** What the request path sees of the tag cache: memory lookups only, never a call to AWS. */
export interface Enrichment {
  /** The index of one account and region, or undefined when enrichment knows nothing there. */
  scope(account: string, region: string): ScopeIndex | undefined;
}

/** Data points of one namespace and outcome (hit or miss) since the counts were last settled. */
export interface Tally {
  readonly namespace: string;
  readonly hit: boolean;
  uses: number;
}

/** A lookup made once per snapshot: what it was made for and what it found. */
export interface CachedLookup {
  /** The Namespace (UTF-8) and the encoded Dimensions list this lookup was made for (to tell apart two of one hash). */
  readonly namespaceBytes: Uint8Array;
  readonly dimensions: Uint8Array;
  readonly resource: IndexedResource | undefined;
  /** Where the data points that use this lookup are counted (shared by every lookup of its namespace and outcome). */
  readonly tally: Tally;
  /**
   * The resource's attributes as fields of the attributes tag last written (data point types differ in it):
   * kept here rather than on the resource. Moving this memo onto the resource (an array by field number) measured
   * 30–34 % enrichment cost against 21–28 % in three bench runs; resources come in several object shapes (spread
   * from what discovery found), which likely makes that read from the hot path megamorphic.
   */
  fieldsTag: number;
  fields: Uint8Array | undefined;
}

/**
 * The lookups made in one scope's snapshot, by the FNV-1a hash of the Namespace and the encoded
 * Dimensions list. It lives as long as the snapshot (a refresh builds a new ScopeIndex, and with it a new
 * cache), so that a fleet larger than one request's data points is looked up once, not once per request.
 */
export class LookupCache {
  /** Beyond this many lookups the cache starts again: a bound on memory (~300 bytes a lookup) whatever the input. */
  static readonly MAX_LOOKUPS = 50_000;
  readonly byHash = new Map<number, CachedLookup[]>();
  size = 0;
  /** Per namespace and outcome: a data point adds one to a field, settle() reads a few dozen of them. */
  readonly tallies = new Map<string, Tally>();

  tally(namespace: string, hit: boolean): Tally {
    const key = (hit ? 'hit\u0000' : 'miss\u0000') + namespace;
    let tally = this.tallies.get(key);
    if (!tally) this.tallies.set(key, (tally = { namespace, hit, uses: 0 }));
    return tally;
  }

  add(hash: number, found: CachedLookup): void {
    if (this.size >= LookupCache.MAX_LOOKUPS) {
      this.byHash.clear();
      this.size = 0;
    }
    const candidates = this.byHash.get(hash);
    if (candidates) candidates.push(found);
    else this.byHash.set(hash, [found]);
    this.size++;
  }
}

const lookupCaches = new WeakMap<ScopeIndex, LookupCache>();

/** The lookups already made in one scope's snapshot. */
export function lookupCacheOf(scope: ScopeIndex): LookupCache {
  let cache = lookupCaches.get(scope);
  if (!cache) lookupCaches.set(scope, (cache = new LookupCache()));
  return cache;
}

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
        if (tally.uses === 0) continue;
        const counts = tally.hit ? this.hits : this.misses;
        counts.set(tally.namespace, (counts.get(tally.namespace) ?? 0) + tally.uses);
        tally.uses = 0;
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
