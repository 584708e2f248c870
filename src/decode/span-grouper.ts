import type { Enrichment } from '../enrich/enrichment.ts';
import type { EnrichmentStats } from '../enrich/enrichment-stats.ts';
import { spanResourceAttributes } from '../enrich/span-resources.ts';
import { encodeJsonKeyValue, writeAttributes } from '../otlp/json-values.ts';
import { ResourceBuilder } from '../otlp/resource.ts';
import type { JsonAttributes, ScopeSpans, SpanData, SpanGroup } from '../otlp/spans.ts';
import { type EncodedAttribute, WIRE_LEN, Writer, tag } from '../otlp/wire.ts';
import type { CloudWatchLogsMessage } from './cloudwatch-logs-message.ts';
import { parseExactJson } from './exact-json.ts';
import { RecordError } from './record-error.ts';
import { type ReadSpan, readSpan } from './span-json.ts';

/** What span records are read with: where resources are, and the tag cache. */
export interface SpanContext {
  readonly resourceAttributes: readonly EncodedAttribute[];
  /** The region and account of the delivery stream, when the data names none. */
  readonly region: string | undefined;
  readonly account: string | undefined;
  readonly enrichment: Enrichment | undefined;
  readonly stats: EnrichmentStats;
}

interface ResourceGroup extends SpanGroup {
  readonly account: string;
  readonly region: string;
  /** The resource attributes of the group's first span, in their order. */
  readonly keys: string[];
  readonly values: unknown[];
  readonly scopes: ScopeGroup[];
  /** The scopes by name, version and attributes, once there are more than a few. */
  byKey?: Map<string, ScopeGroup>;
}

interface ScopeGroup extends ScopeSpans {
  readonly name: string;
  readonly version: string;
  readonly attributes: string;
  readonly spans: SpanData[];
}

/**
 * Up to this many, a record's resources (a resource's scopes) are found by comparing each in turn, with no
 * key built and hashed per span; beyond, by a key in a Map.
 */
const FEW = 8;

/**
 * Reads and groups spans by resource and scope, encoding each resource once, tagged. Resources are equal when
 * their account, region and attributes (in order, as their JSON) are.
 */
export class SpanGrouper {
  private readonly list: ResourceGroup[] = [];
  private readonly byKey = new Map<string, ResourceGroup>();
  private readonly ctx: SpanContext;
  count = 0;

  constructor(ctx: SpanContext) {
    this.ctx = ctx;
  }

  /** Reads one span's JSON text (`where` names it in errors) of the account the message names. */
  addText(text: string, owner: string | undefined, where: string): void {
    this.add(readSpanText(text, where), owner);
  }

  /** Adds a message's spans if every event reads as one; false (nothing added) when one does not. */
  tryMessage(m: CloudWatchLogsMessage): boolean {
    const reads: ReadSpan[] = [];
    try {
      for (let i = 0; i < m.logEvents.length; i++) reads.push(readSpanText(m.logEvents[i]!.message, 'span'));
    } catch (err) {
      if (err instanceof RecordError) return false;
      throw err;
    }
    for (const read of reads) this.add(read, m.owner);
    return true;
  }

  add(read: ReadSpan, owner: string | undefined): void {
    const { resource } = read;
    const account = str(resource['cloud.account.id']) ?? owner ?? this.ctx.account;
    const region = str(resource['cloud.region']) ?? this.ctx.region;
    const group = this.find(resource, account ?? '', region ?? '') ?? this.open(resource, account, region);
    scopeGroup(group, read.scope).spans.push(read.span);
    this.count++;
  }

  groups(): SpanGroup[] {
    return this.list;
  }

  private find(attributes: JsonAttributes, account: string, region: string): ResourceGroup | undefined {
    const list = this.list;
    if (list.length > FEW) return this.byKey.get(resourceKey(account, region, attributes));
    for (let i = 0; i < list.length; i++) {
      const g = list[i]!;
      if (g.account === account && g.region === region && sameAttributes(attributes, g)) return g;
    }
    return undefined;
  }

  private open(attributes: JsonAttributes, account: string | undefined, region: string | undefined): ResourceGroup {
    const g: ResourceGroup = {
      account: account ?? '',
      region: region ?? '',
      keys: Object.keys(attributes),
      values: Object.values(attributes),
      resource: this.encodeResource(attributes, account, region),
      scopes: [],
    };
    const list = this.list;
    list.push(g);
    if (list.length > FEW) {
      for (const r of list.length === FEW + 1 ? list : [g])
        this.byKey.set(resourceKey(r.account, r.region, Object.fromEntries(r.keys.map((k, i) => [k, r.values[i]]))), r);
    }
    return g;
  }

  /** The span's own attributes first; then those of the AWS resource it names (tag cache), then the configured ones. */
  private encodeResource(attributes: JsonAttributes, account: string | undefined, region: string | undefined): Uint8Array {
    const r = new ResourceBuilder();
    for (const key in attributes) r.add(key, encodeJsonKeyValue(key, attributes[key]));
    const { enrichment, stats } = this.ctx;
    const scope = account !== undefined && region !== undefined ? enrichment?.scope(account, region) : undefined;
    if (scope) {
      const found = spanResourceAttributes(scope, attributes);
      if (found) {
        for (const [key, value] of Object.entries(found)) r.string(key, value);
        stats.hit('spans');
      } else {
        stats.miss('spans');
      }
    }
    for (const a of this.ctx.resourceAttributes) r.add(a.key, a.encoded);
    return r.finish();
  }
}

function readSpanText(text: string, where: string): ReadSpan {
  let value: unknown;
  try {
    value = parseExactJson(text);
  } catch (err) {
    throw new RecordError('json', `${where} is not JSON: ${(err as Error).message}`);
  }
  return readSpan(value, where);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A value's JSON, as a key for grouping (bigints and bytes, which JSON.stringify refuses, as text). */
function stableKey(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  }
}

const resourceKey = (account: string, region: string, attributes: JsonAttributes): string => `${account}\u0000${region}\u0000${stableKey(attributes)}`;

/** True when the attributes' JSON would be the group's: the same keys in the same order, values of the same JSON. */
function sameAttributes(a: JsonAttributes, g: ResourceGroup): boolean {
  const { keys, values } = g;
  let i = 0;
  for (const key in a) {
    if (i === keys.length || key !== keys[i] || !sameValue(a[key], values[i])) return false;
    i++;
  }
  return i === keys.length;
}

function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  const tx = typeof x;
  const ty = typeof y;
  if (tx !== 'object' && tx !== 'bigint' && ty !== 'object' && ty !== 'bigint') return false;
  return stableKey(x) === stableKey(y);
}

/** InstrumentationScope { name 1; version 2; attributes 3 }. */
function encodeScope(scope: ReadSpan['scope']): Uint8Array {
  const w = Writer.create();
  if (scope.name) w.uint32(tag(1, WIRE_LEN)).string(scope.name);
  if (scope.version) w.uint32(tag(2, WIRE_LEN)).string(scope.version);
  writeAttributes(w, 3, scope.attributes);
  return w.finish();
}

/** The spans of a resource's scope; a resource of more than a few scopes finds them by a key. */
function scopeGroup(group: ResourceGroup, scope: ReadSpan['scope']): ScopeGroup {
  const { name, version } = scope;
  const attributes = scope.attributes ? stableKey(scope.attributes) : '';
  const scopes = group.scopes;
  if (scopes.length <= FEW) {
    for (let i = 0; i < scopes.length; i++) {
      const g = scopes[i]!;
      if (g.name === name && g.version === version && g.attributes === attributes) return g;
    }
  } else {
    const found = group.byKey!.get(`${name}\u0000${version}\u0000${attributes}`);
    if (found) return found;
  }
  const g = { name, version, attributes, scope: encodeScope(scope), spans: [] };
  scopes.push(g);
  if (scopes.length > FEW) {
    group.byKey ??= new Map();
    for (const s of scopes.length === FEW + 1 ? scopes : [g]) group.byKey.set(`${s.name}\u0000${s.version}\u0000${s.attributes}`, s);
  }
  return g;
}
