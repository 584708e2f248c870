import { Writer, encodeStringKeyValue } from '../otlp/wire.ts';
import { NAMESPACES, NAMESPACE_BY_NAME, dimensionsFromArn, dimensionsOf } from './namespaces.ts';

/** A resource as discovery found it, before indexing. */
export interface DiscoveredResource {
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Non-tag attributes under their OpenTelemetry names (host.type, cloud.availability_zone …). */
  readonly attributes: Readonly<Record<string, string>>;
  /** The APIs that reported it (for the /enrichment/resources answer). */
  readonly sources: readonly string[];
}

/** A resource ready for the request path: its attributes already encoded as OTLP KeyValues. */
export interface IndexedResource extends DiscoveredResource {
  readonly account: string;
  readonly region: string;
  readonly namespaces: readonly string[];
  /** Every attribute firetap adds for this resource: cloud.resource_id, aws.tag.*, discovered attributes. */
  readonly added: Readonly<Record<string, string>>;
  readonly encoded: readonly Uint8Array[];
  /** `encoded` as repeated fields of one attributes tag, built once per tag: one copy per data point. */
  readonly fieldsByTag: Map<number, Uint8Array>;
}

/** The resource's attributes as repeated `attributes` fields with the given tag, ready to copy. */
export function attributeFields(resource: IndexedResource, attributesTag: number): Uint8Array {
  let fields = resource.fieldsByTag.get(attributesTag);
  if (!fields) {
    const w = Writer.create();
    for (const kv of resource.encoded) w.uint32(attributesTag).bytes(kv);
    fields = w.finish();
    resource.fieldsByTag.set(attributesTag, fields);
  }
  return fields;
}

export interface TagFilter {
  /** Tag keys to attach; empty means all. */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/** The tag filter the enrichment settings ask for. */
export const tagFilterOf = (config: { readonly tagKeys: readonly string[]; readonly excludeTagKeys: readonly string[] }): TagFilter => ({
  include: config.tagKeys,
  exclude: config.excludeTagKeys,
});

interface KeyIndex {
  readonly dimensions: readonly string[];
  readonly resources: Map<string, IndexedResource>;
}

/** Everything known about one (account, region). */
export interface ScopeIndex {
  readonly account: string;
  readonly region: string;
  readonly fetchedAt: number;
  /** True when the last refresh of this scope failed and this is the snapshot before it. */
  readonly stale: boolean;
  readonly byNamespace: ReadonlyMap<string, readonly KeyIndex[]>;
  readonly byArn: ReadonlyMap<string, IndexedResource>;
  /** Log group name → its AWS/Logs resource. */
  readonly logGroups: ReadonlyMap<string, IndexedResource>;
}

const SEP = '\u0000';
export const scopeKey = (account: string, region: string): string => account + SEP + region;

export function addedAttributes(r: DiscoveredResource, filter: TagFilter): Record<string, string> {
  const added: Record<string, string> = { 'cloud.resource_id': r.arn, ...r.attributes };
  for (const [key, value] of Object.entries(r.tags)) {
    if (filter.include.length > 0 && !filter.include.includes(key)) continue;
    if (filter.exclude.includes(key)) continue;
    added[`aws.tag.${key}`] = value;
  }
  return added;
}

/** Indexes one scope's resources by every namespace key their ARN matches (first matching key per namespace). */
export function buildScopeIndex(
  account: string,
  region: string,
  resources: readonly DiscoveredResource[],
  filter: TagFilter,
  fetchedAt = Date.now(),
): ScopeIndex {
  const byNamespace = new Map<string, KeyIndex[]>();
  const byArn = new Map<string, IndexedResource>();
  const logGroups = new Map<string, IndexedResource>();
  for (const spec of NAMESPACES) {
    byNamespace.set(
      spec.namespace,
      spec.keys.map((key) => ({ dimensions: dimensionsOf(key), resources: new Map() })).sort((a, b) => b.dimensions.length - a.dimensions.length),
    );
  }
  for (const r of resources) {
    const namespaces: string[] = [];
    const matches: Array<[KeyIndex, string]> = [];
    let logGroupName: string | undefined;
    for (const spec of NAMESPACES) {
      const indexes = byNamespace.get(spec.namespace)!;
      for (const key of spec.keys) {
        const dims = dimensionsFromArn(key, r.arn);
        if (!dims) continue;
        const dimensions = dimensionsOf(key);
        const index = indexes.find((i) => i.dimensions.join(SEP) === dimensions.join(SEP))!;
        matches.push([index, dimensions.map((d) => dims[d]).join(SEP)]);
        namespaces.push(spec.namespace);
        if (spec.namespace === 'AWS/Logs') logGroupName = dims.LogGroupName;
        break;
      }
    }
    const added = addedAttributes(r, filter);
    const indexed: IndexedResource = {
      ...r,
      account,
      region,
      namespaces,
      added,
      encoded: Object.entries(added).map(([k, v]) => encodeStringKeyValue(k, v)),
      fieldsByTag: new Map(),
    };
    byArn.set(r.arn, indexed);
    for (const [index, signature] of matches) index.resources.set(signature, indexed);
    if (logGroupName !== undefined) logGroups.set(logGroupName, indexed);
  }
  return { account, region, fetchedAt, stale: false, byNamespace, byArn, logGroups };
}

/**
 * The resource a data point belongs to: the namespace's dimension sets are tried most specific first,
 * the first whose dimensions the data point all has decides.
 */
export function lookupMetric(scope: ScopeIndex, namespace: string, dimensions: ReadonlyMap<string, string>): IndexedResource | undefined {
  const indexes = scope.byNamespace.get(namespace);
  if (!indexes) return undefined;
  const fix = NAMESPACE_BY_NAME.get(namespace)?.fixValue;
  for (const index of indexes) {
    if (!index.dimensions.every((d) => dimensions.has(d))) continue;
    const signature = index.dimensions.map((d) => dimensions.get(d)!).join(SEP);
    const hit = index.resources.get(signature);
    if (hit || !fix) return hit;
    return index.resources.get(index.dimensions.map((d) => fix(d, dimensions.get(d)!)).join(SEP));
  }
  return undefined;
}

/** Counts of resources per namespace, for /metrics. */
export function resourceCounts(scope: ScopeIndex): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of scope.byArn.values()) for (const ns of r.namespaces) counts.set(ns, (counts.get(ns) ?? 0) + 1);
  return counts;
}

/** How old each scope's snapshot is, for /metrics (firetap_enrichment_snapshot_age_seconds). */
export function scopeAges(scopes: ReadonlyMap<string, ScopeIndex>, now = Date.now()): Array<{ account: string; region: string; ageSeconds: number }> {
  return [...scopes.values()].map((s) => ({ account: s.account, region: s.region, ageSeconds: (now - s.fetchedAt) / 1000 }));
}
