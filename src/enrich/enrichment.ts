import type { ScopeIndex } from './snapshot.ts';

/** What the request path sees of the tag cache: memory lookups only, never a call to AWS. */
export interface Enrichment {
  /** The index of one account and region, or undefined when enrichment knows nothing there. */
  scope(account: string, region: string): ScopeIndex | undefined;
}
