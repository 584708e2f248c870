import type { Enrichment } from '../../enrich/enrichment.ts';
import type { EnrichmentStats } from '../../enrich/enrichment-stats.ts';
import type { LookupCache } from '../../enrich/lookup-cache.ts';
import type { IndexedResource, ScopeIndex } from '../../enrich/snapshot.ts';
import type { EncodedAttribute } from '../../otlp/wire-encode.ts';

/** CloudWatch writes at most 30 dimensions per metric; far more is not CloudWatch. */
export const MAX_ATTRIBUTES_PER_POINT = 128;

export interface MetricStreamContext {
  /** Added to every Resource unless the resource already has an attribute of that key. */
  readonly resourceAttributes: readonly EncodedAttribute[];
  /** Resource tags: each data point whose namespace and dimensions identify a known resource gets its attributes. */
  readonly enrichment?: Enrichment | undefined;
  readonly stats?: EnrichmentStats | undefined;
  /**
   * Where the attributes of a known AWS resource go: on each of its data points (the default), or on an
   * OTLP Resource of its own, its data points grouped under it (`FIRETAP_ENRICHMENT_ATTRIBUTES_ON=resource`).
   */
  readonly attributesOn?: 'datapoint' | 'resource' | undefined;
}

/** Per ResourceMetrics: where its data points look their resources up. */
export interface PointContext {
  readonly scope: ScopeIndex | undefined;
  readonly cache: LookupCache | undefined;
  /** Grouping: the data points' resources are noted here instead of written onto them. */
  collect?: { group: IndexedResource | null | undefined; mixed: boolean } | undefined;
}
