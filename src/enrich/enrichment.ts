import type { ScopeIndex } from './snapshot.ts';

/** What the request path sees of the tag cache: memory lookups only, never a call to AWS. */
export interface Enrichment {
  /** The index of one account and region, or undefined when enrichment knows nothing there. */
  scope(account: string, region: string): ScopeIndex | undefined;
}

/** Which tag snapshot a replica serves: its version (published by the fleet's leader, or built here), its age. */
export interface SnapshotHeld {
  /** 0 or undefined: none yet. */
  readonly version: number | undefined;
  readonly ageSeconds: number | undefined;
  /** This process scrapes AWS (always, without a state store; the lease holder, with one). */
  readonly leader: boolean;
}

/** The tag cache as the app drives it: a scraper of its own (TagScraper) or the fleet's snapshot (SharedTagCache). */
export interface TagCache extends Enrichment {
  /** Every scope's index, as one map replaced (never changed) by each new snapshot. */
  snapshot(): ReadonlyMap<string, ScopeIndex>;
  allScopes(): ScopeIndex[];
  ready(): boolean;
  held(): SnapshotHeld;
  start(): void;
  refreshNow(): Promise<void>;
  stop(): Promise<void>;
}
