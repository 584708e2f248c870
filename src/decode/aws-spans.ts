import type { Enrichment } from '../enrich/enrichment.ts';
import type { EnrichmentStats } from '../enrich/enrichment-stats.ts';
import { spanResourceAttributes } from '../enrich/span-resources.ts';
import { encodeJsonKeyValue, writeAttributes } from '../otlp/json-values.ts';
import { ResourceBuilder } from '../otlp/resource.ts';
import type { JsonAttributes, ScopeSpans, SpanData, SpanGroup } from '../otlp/spans.ts';
import { type EncodedAttribute, WIRE_LEN, Writer, tag } from '../otlp/wire.ts';
import { looksLikeSubscriptionMessage, parseCloudWatchLogsJson } from './cloudwatch-logs.ts';
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

/** How far into a text the markers of a span are looked for. */
const HEAD = 1024;

/**
 * True when a text (a log event, a raw record's first line) is a span: a JSON object naming `traceId` and `spanId`
 * near its start and a `startTimeUnixNano` (a log line that carries its trace context has the ids but no span
 * times), or ADOT's `AWS-OTEL-TRACE-V1` format.
 */
export function looksLikeSpan(text: string): boolean {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 0x20) i++;
  if (text.charCodeAt(i) !== 0x7b) return false;
  const head = text.length > i + HEAD ? text.slice(i, i + HEAD) : text;
  return (head.includes('"traceId"') && head.includes('"spanId"') && text.includes('"startTimeUnixNano"')) || head.includes('AWS-OTEL-TRACE-V1');
}

/** A record of spans: a subscription message from aws/spans (its head names the group), or span JSON itself. */
export function looksLikeSpanRecord(plain: Buffer): boolean {
  if (looksLikeSubscriptionMessage(plain)) return /"logGroup"\s*:\s*"aws\/spans"/.test(plain.toString('latin1', 0, Math.min(plain.length, 512)));
  const firstLine = plain.indexOf(0x0a);
  return looksLikeSpan(plain.toString('latin1', 0, Math.min(firstLine < 0 ? plain.length : firstLine, 64 * 1024)));
}

/**
 * Which messages of a record hold spans: `strict` those of span log groups (FIRETAP_SPAN_LOG_GROUPS), where a span
 * that cannot be read fails the record; `byShape` those of other groups whose first event is a span, which stay
 * logs unless every event reads as a span.
 */
export function spanMessages(messages: readonly CloudWatchLogsMessage[], isSpanGroup: (name: string) => boolean) {
  const strict: CloudWatchLogsMessage[] = [];
  const byShape: CloudWatchLogsMessage[] = [];
  for (const m of messages) {
    if (m.messageType !== 'DATA_MESSAGE') continue;
    if (isSpanGroup(m.logGroup)) strict.push(m);
    else if (m.logEvents[0] !== undefined && looksLikeSpan(m.logEvents[0].message)) byShape.push(m);
  }
  return { strict, byShape };
}

interface ResourceGroup {
  readonly key: string;
  readonly resource: Uint8Array;
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

/** Up to this many resources a record's are found by comparing keys in turn: no hash of a new key per span. */
const FEW = 8;

/** Reads and groups spans by resource and scope, encoding each resource once, tagged. */
export class SpanGrouper {
  private readonly list: ResourceGroup[] = [];
  private readonly resources = new Map<string, ResourceGroup>();
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
    const { resource, scope } = read;
    const ownAccount = str(resource['cloud.account.id']);
    const ownRegion = str(resource['cloud.region']);
    const account = ownAccount ?? owner ?? this.ctx.account;
    const region = ownRegion ?? this.ctx.region;
    // A resource naming its account and region is keyed by its JSON alone (no copy with a prefix).
    const json = stableKey(resource);
    const key = ownAccount !== undefined && ownRegion !== undefined ? json : `${account ?? ''}\u0000${region ?? ''}\u0000${json}`;
    let group = this.find(key);
    if (!group) {
      group = { key, resource: this.encodeResource(resource, account, region), scopes: [] };
      this.list.push(group);
      this.resources.set(key, group);
    }
    scopeGroup(group, scope).spans.push(read.span);
    this.count++;
  }

  private find(key: string): ResourceGroup | undefined {
    const list = this.list;
    if (list.length > FEW) return this.resources.get(key);
    for (let i = 0; i < list.length; i++) if (list[i]!.key === key) return list[i];
    return undefined;
  }

  groups(): SpanGroup[] {
    return this.list;
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

/** A key for grouping equal attribute maps (bigints and bytes, which JSON.stringify refuses, as text). */
function stableKey(attributes: JsonAttributes): string {
  try {
    return JSON.stringify(attributes);
  } catch {
    return JSON.stringify(attributes, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  }
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

/** Adds every event of span messages (each event one span) to the grouper. */
export function addSpanMessages(messages: readonly CloudWatchLogsMessage[], grouper: SpanGrouper): void {
  for (const m of messages) {
    if (m.messageType !== 'DATA_MESSAGE') continue;
    const events = m.logEvents;
    for (let i = 0; i < events.length; i++) {
      try {
        grouper.addText(events[i]!.message, m.owner, SPAN);
      } catch (err) {
        throw named(err, `span (logEvents[${i}] of ${m.logGroup})`);
      }
    }
  }
}

/** What a span is called while it is read; an error then names it in full (not built for every span). */
const SPAN = 'span';

function named(err: unknown, where: string): unknown {
  return err instanceof RecordError && err.message.startsWith(SPAN) ? new RecordError(err.reason, where + err.message.slice(SPAN.length)) : err;
}

/**
 * The spans of one record (gunzipped once) of any log group: a CloudWatch Logs subscription message whose
 * events are spans, or span JSON itself, one span per line. A span that cannot be read fails the record.
 */
export function spanRecordGroups(plain: Buffer, ctx: SpanContext): SpanGroup[] {
  const grouper = new SpanGrouper(ctx);
  if (looksLikeSubscriptionMessage(plain)) addSpanMessages(parseCloudWatchLogsJson(plain), grouper);
  else {
    const lines = plain.toString('utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() === '') continue;
      try {
        grouper.addText(lines[i]!, undefined, SPAN);
      } catch (err) {
        throw named(err, `span (line ${i + 1})`);
      }
    }
    if (grouper.count === 0)
      throw new RecordError('format', 'record holds no span (expected span JSON, one per line, or a CloudWatch Logs subscription message of spans)');
  }
  return grouper.groups();
}
