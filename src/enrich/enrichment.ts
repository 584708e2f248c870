import type { ScopeIndex } from './snapshot.ts';

/** What the request path sees of the tag cache: memory lookups only, never a call to AWS. */
export interface Enrichment {
  /** The index of one account and region, or undefined when enrichment knows nothing there. */
  scope(account: string, region: string): ScopeIndex | undefined;
}

/** Hits and misses of one request, per namespace, added to the metrics once the request is done. */
export class EnrichmentStats {
  readonly hits = new Map<string, number>();
  readonly misses = new Map<string, number>();

  hit(namespace: string): void {
    this.hits.set(namespace, (this.hits.get(namespace) ?? 0) + 1);
  }

  miss(namespace: string): void {
    this.misses.set(namespace, (this.misses.get(namespace) ?? 0) + 1);
  }
}
