import type { OtlpBatch } from '../otlp/batch.ts';
import {
  Reader,
  Writer,
  WIRE_LEN,
  WireError,
  bytesEqual,
  copyFieldSince,
  copyRange,
  writeBytes,
  checkKeyValue,
  closeField,
  openField,
  readLen,
  readVarint,
  scanKeyValue,
  skipValue,
  checkUtf8,
  findKey,
  rangesEqual,
  scannedString,
  readLenBounds,
  skipField,
  tag,
  type EncodedAttribute,
  utf8,
  varintSize,
  WireCursor,
} from '../otlp/wire.ts';
import type { Enrichment } from '../enrich/enrichment.ts';
import { EnrichmentStats as Stats, type EnrichmentStats } from '../enrich/enrichment-stats.ts';
import { NO_RESOURCE, lookupKeyHash, type LookupCache } from '../enrich/lookup-cache.ts';
import { attributeFields, lookupMetric, type IndexedResource, type ScopeIndex } from '../enrich/snapshot.ts';
import { lengthPrefixedFrames } from './length-prefixed.ts';
import { RecordError } from './record-error.ts';

const LEN1 = tag(1, WIRE_LEN);
const LEN2 = tag(2, WIRE_LEN);
const DIMENSIONS = Buffer.from('Dimensions');
const NAMESPACE = Buffer.from('Namespace');
const METRIC_NAME = Buffer.from('MetricName');
const ACCOUNT = Buffer.from('cloud.account.id');
const REGION = Buffer.from('cloud.region');
const DIMENSION_COLLISION_PREFIX = 'Dimensions.';
/** CloudWatch sends a few frames per record and at most 30 dimensions per metric; far more is not CloudWatch. */
export const MAX_FRAMES_PER_RECORD = 65_536;
export const MAX_ATTRIBUTES_PER_POINT = 128;

/** Metric.data oneof: field number → the field number of `attributes` in that type's data points (0: not a data field). */
const ATTRIBUTES_FIELD_BY_DATA: readonly number[] = [
  0, 0, 0, 0, 0,
  7, // 5 gauge → NumberDataPoint.attributes
  0,
  7, // 7 sum → NumberDataPoint.attributes
  0,
  9, // 9 histogram → HistogramDataPoint.attributes
  1, // 10 exponential_histogram → ExponentialHistogramDataPoint.attributes
  7, // 11 summary → SummaryDataPoint.attributes
];

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
interface PointContext {
  readonly scope: ScopeIndex | undefined;
  readonly cache: LookupCache | undefined;
  /** Grouping: the data points' resources are noted here instead of written onto them. */
  collect?: { group: IndexedResource | null | undefined; mixed: boolean } | undefined;
}

/**
 * Appends one CloudWatch Metric Streams "OpenTelemetry 1.0" record to an OTLP metrics batch.
 *
 * Every frame's ResourceMetrics are copied through byte for byte except for two rewrites: the
 * Resource gains the request's extra attributes, and each data point's `Dimensions` kvlist attribute
 * is replaced by one attribute per dimension (backends such as Prometheus cannot query a kvlist).
 * A dimension whose name is already an attribute (`Namespace`, `MetricName`) is written as
 * `Dimensions.<name>`. A bad record throws RecordError and leaves the batch as it was.
 */
export function appendMetricStreamRecord(record: Uint8Array, batch: OtlpBatch, ctx: MetricStreamContext): void {
  const mark = batch.mark();
  try {
    // A Buffer, so that protobufjs reads it with its Buffer reader (native string decoding).
    const r = Reader.create(Buffer.isBuffer(record) ? record : Buffer.from(record.buffer, record.byteOffset, record.byteLength));
    const c = new WireCursor();
    let frameIndex = 0;
    for (const frame of lengthPrefixedFrames(record)) {
      if (frameIndex >= MAX_FRAMES_PER_RECORD) throw new RecordError('too_large', `record has more than ${MAX_FRAMES_PER_RECORD} frames`);
      try {
        rewriteExportRequest(r, frame.start, frame.end, batch, ctx, c);
      } catch (err) {
        if (err instanceof RecordError) throw err;
        throw new RecordError('protobuf', `frame ${frameIndex} (bytes ${frame.start}-${frame.end}) is not an OTLP ExportMetricsServiceRequest: ${(err as Error).message}`);
      }
      frameIndex++;
    }
  } catch (err) {
    batch.rollback(mark);
    throw err;
  }
}

function rewriteExportRequest(r: Reader, start: number, end: number, batch: OtlpBatch, ctx: MetricStreamContext, c: WireCursor): void {
  const w = batch.writer;
  r.pos = start;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === LEN1) {
      const stop = readLenBounds(r, end);
      if (ctx.attributesOn === 'resource' && ctx.enrichment) {
        batch.items += rewriteResourceMetricsGrouped(r, stop, w, ctx, c);
      } else {
        const input = stop - r.pos;
        const expected = containerGuess(input);
        const lenPos = openField(w, LEN1, expected);
        batch.items += rewriteResourceMetrics(r, stop, w, ctx, c);
        closeContainer(w, lenPos, expected, input);
      }
    } else {
      // ExportMetricsServiceRequest has no other field; anything else is not one.
      throw new WireError(`unexpected field ${t >>> 3} (wire type ${t & 7}) at byte ${r.pos - 1}`);
    }
  }
}

/**
 * How much larger than its input the last ResourceMetrics or ScopeMetrics came out (tags make it about twice
 * as large). Their length prefixes are reserved for the input's size times this, so that a container whose
 * length needs one more varint byte once tagged (a ScopeMetrics of 10 KB becomes 20 KB: past 16,383) is not
 * shifted in memory by closeField — that shift was ~6 % of a decode thread's time under tagged load.
 */
let containerGrowth = 1;
const containerGuess = (input: number): number => Math.ceil(input * containerGrowth);
function closeContainer(w: Writer, lenPos: number, expected: number, input: number): void {
  const len = w.pos - lenPos - varintSize(expected);
  closeField(w, lenPos, expected);
  if (input > 0) containerGrowth = len / input;
}

/** ResourceMetrics { resource = 1; scope_metrics = 2; schema_url = 3 }. Returns data points written. */
function rewriteResourceMetrics(r: Reader, end: number, w: Writer, ctx: MetricStreamContext, c: WireCursor): number {
  let points = 0;
  let sawResource = false;
  let point: PointContext = { scope: undefined, cache: undefined };
  while (r.pos < end) {
    const fieldStart = r.pos;
    const t = r.uint32();
    if (t === LEN1) {
      const stop = readLenBounds(r, end);
      w.uint32(LEN1).fork();
      const identity = rewriteResource(r, stop, w, ctx.resourceAttributes, c);
      w.ldelim();
      sawResource = true;
      if (ctx.enrichment && identity.account !== undefined && identity.region !== undefined) {
        const scope = ctx.enrichment.scope(identity.account, identity.region);
        point = { scope, cache: scope ? (ctx.stats ?? new Stats()).lookupCache(scope) : undefined };
      }
    } else if (t === LEN2) {
      const stop = readLenBounds(r, end);
      const input = stop - r.pos;
      const expected = containerGuess(input);
      const lenPos = openField(w, LEN2, expected);
      points += rewriteScopeMetrics(r, stop, w, point, c);
      closeContainer(w, lenPos, expected, input);
    } else {
      copyCheckedField(r, t, end, fieldStart, w, STRING_FIELDS_OF_CONTAINER, c);
    }
  }
  if (!sawResource && ctx.resourceAttributes.length > 0) {
    w.uint32(LEN1).fork();
    for (const attr of ctx.resourceAttributes) w.uint32(LEN1).bytes(attr.encoded);
    w.ldelim();
  }
  return points;
}

/**
 * Resource { attributes = 1; dropped_attributes_count = 2 }: copied, then extra attributes it lacks.
 * Returns the account and region CloudWatch put on it (the key of the tag cache).
 */
export function rewriteResource(r: Reader, end: number, w: Writer, extra: readonly EncodedAttribute[], c: WireCursor): { account: string | undefined; region: string | undefined; keys: Array<[number, number]> } {
  const keys: Array<[number, number]> = [];
  let account: string | undefined;
  let region: string | undefined;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const t = r.uint32();
    if (t === LEN1) {
      const stop = readLenBounds(r, end);
      scanKeyValue(r, r.pos, stop, c);
      const key: [number, number] = [c.keyStart, c.keyEnd];
      if (key[0] >= 0) {
        keys.push(key);
        if (bytesEqual(r.buf, key[0], key[1], ACCOUNT)) account = scannedString(r, c);
        else if (bytesEqual(r.buf, key[0], key[1], REGION)) region = scannedString(r, c);
      }
      r.pos = stop;
    } else {
      if (t >>> 3 === 1) throw new WireError(`Resource.attributes has wire type ${t & 7} at byte ${fieldStart}`);
      skipField(r, t & 7, end);
    }
    copyFieldSince(r, fieldStart, w);
  }
  for (const attr of extra) {
    if (!keys.some(([s, e]) => bytesEqual(r.buf, s, e, attr.keyBytes))) w.uint32(LEN1).bytes(attr.encoded);
  }
  return { account, region, keys };
}

/**
 * One ResourceMetrics rewritten with the data points of each known AWS resource grouped under an OTLP
 * Resource of their own: the resource CloudWatch sent (with the extra attributes) plus the AWS resource's
 * attributes, once, instead of on every data point. Data points of no known resource stay under the
 * resource as sent. A metric whose data points belong to different resources (CloudWatch writes one data
 * point per metric, so only other producers) keeps the attributes on its data points. Writes 1…n
 * ResourceMetrics; returns the data points written.
 */
function rewriteResourceMetricsGrouped(r: Reader, end: number, w: Writer, ctx: MetricStreamContext, c: WireCursor): number {
  const start = r.pos;
  // The resource first, wherever it stands: it decides where data points look their resources up.
  let resource: { bytes: Uint8Array; keys: Set<string> } | undefined;
  let point: PointContext = { scope: undefined, cache: undefined };
  while (r.pos < end) {
    const t = r.uint32();
    if (t === LEN1) {
      const stop = readLenBounds(r, end);
      const rw = spareWriter();
      const identity = rewriteResource(r, stop, rw, ctx.resourceAttributes, c);
      const keys = new Set([...identity.keys.map(([s, e]) => utf8(r, s, e)), ...ctx.resourceAttributes.map((a) => a.key)]);
      resource = { bytes: rw.finish(), keys };
      if (spare.length < MAX_SPARE_WRITERS) spare.push(rw);
      if (identity.account !== undefined && identity.region !== undefined) {
        const scope = ctx.enrichment!.scope(identity.account, identity.region);
        point = { scope, cache: scope ? (ctx.stats ?? new Stats()).lookupCache(scope) : undefined };
      }
      r.pos = stop;
      break;
    }
    skipField(r, t & 7, end);
  }
  if (!point.scope) {
    // Nothing to group by: the usual rewrite.
    r.pos = start;
    w.uint32(LEN1).fork();
    const points = rewriteResourceMetrics(r, end, w, ctx, c);
    w.ldelim();
    return points;
  }

  /** Per group (null: no known AWS resource), per ScopeMetrics of the input, the rewritten metrics. */
  const groups = new Map<IndexedResource | null, Writer[]>();
  const scopes: Array<{ header: Uint8Array }> = [];
  const tail = spareWriter(); // other ResourceMetrics fields (schema_url …), repeated in every group
  let points = 0;
  const mw = spareWriter();
  const used: Writer[] = [tail, mw];
  r.pos = start;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const t = r.uint32();
    if (t === LEN1) {
      r.pos = readLenBounds(r, end);
    } else if (t === LEN2) {
      const stop = readLenBounds(r, end);
      const scopeIndex = scopes.length;
      const header = spareWriter(); // ScopeMetrics fields other than metrics: scope, schema_url
      used.push(header);
      while (r.pos < stop) {
        const smFieldStart = r.pos;
        const st = r.uint32();
        if (st === LEN2) {
          const metricEnd = readLenBounds(r, stop);
          const metricStart = r.pos;
          point.collect = { group: undefined, mixed: false };
          mw.pos = 0;
          const n = rewriteMetric(r, metricEnd, mw, point, c);
          let group = point.collect.group ?? null;
          if (point.collect.mixed) {
            // Keep this metric's attributes on its data points, under the resource as sent.
            point.collect = undefined;
            r.pos = metricStart;
            mw.pos = 0;
            rewriteMetric(r, metricEnd, mw, point, c);
            group = null;
          }
          point.collect = undefined;
          points += n;
          let perScope = groups.get(group);
          if (!perScope) groups.set(group, (perScope = []));
          let target = perScope[scopeIndex];
          if (!target) used.push((target = perScope[scopeIndex] = spareWriter()));
          target.uint32(LEN2).uint32(mw.pos);
          copyRange(target, mw.buf, 0, mw.pos);
          r.pos = metricEnd;
        } else {
          copyScopeMetricsField(r, st, stop, smFieldStart, header, c);
        }
      }
      scopes.push({ header: header.finish(true) });
    } else {
      if (t >>> 3 === 1 || t >>> 3 === 2) throw new WireError(`ResourceMetrics field ${t >>> 3} has wire type ${t & 7} at byte ${fieldStart}`);
      copyCheckedField(r, t, end, fieldStart, tail, STRING_FIELDS_OF_CONTAINER, c);
    }
  }
  const tailBytes = tail.finish(true);
  if (groups.size === 0) groups.set(null, []);
  for (const [group, perScope] of groups) {
    w.uint32(LEN1).fork();
    w.uint32(LEN1).fork();
    if (resource) copyRange(w, resource.bytes, 0, resource.bytes.length);
    if (group) {
      const names = Object.keys(group.added);
      for (let i = 0; i < names.length; i++) if (!resource?.keys.has(names[i]!)) w.uint32(LEN1).bytes(group.encoded[i]!);
    }
    w.ldelim();
    for (let i = 0; i < scopes.length; i++) {
      const metrics = perScope[i];
      if (!metrics) continue;
      w.uint32(LEN2).fork();
      copyRange(w, scopes[i]!.header, 0, scopes[i]!.header.length);
      copyRange(w, metrics.buf, 0, metrics.pos);
      w.ldelim();
    }
    copyRange(w, tailBytes, 0, tailBytes.length);
    w.ldelim();
  }
  for (const u of used) if (spare.length < MAX_SPARE_WRITERS) spare.push(u);
  return points;
}

/** Scratch writers of the grouping rewrite, reused from one ResourceMetrics to the next (their buffers kept). */
const spare: Writer[] = [];
/** A frame of many ScopeMetrics must not leave as many writers behind. */
const MAX_SPARE_WRITERS = 64;
function spareWriter(): Writer {
  const w = spare.pop() ?? Writer.create();
  w.pos = 0;
  if (w.states) w.states.length = 0;
  return w;
}

/** Field numbers of a message that hold strings (checked as UTF-8), as a bit mask: bit n = field n. */
type StringFields = number;
const NO_STRING_FIELDS: StringFields = 0;
/** ResourceMetrics / ScopeMetrics: schema_url = 3. */
const STRING_FIELDS_OF_CONTAINER: StringFields = 1 << 3;
/** Metric: name = 1, description = 2, unit = 3. */
const STRING_FIELDS_OF_METRIC: StringFields = (1 << 1) | (1 << 2) | (1 << 3);

/**
 * Copies a field it does not rewrite, checking first what strict decoders would refuse in it: a string
 * field that is not UTF-8 or not length-delimited. `p` is just after the tag `t`; returns where the field ends.
 */
function copyChecked(r: Reader, p: number, t: number, fieldStart: number, end: number, w: Writer, strings: StringFields, c: WireCursor): number {
  const field = t >>> 3;
  let after: number;
  if (field < 31 && (strings >>> field) & 1) {
    if ((t & 7) !== WIRE_LEN) throw new WireError(`string field ${field} has wire type ${t & 7} at byte ${fieldStart}`);
    after = readLen(r.buf, p, end, c);
    checkUtf8(r.buf, c.pos, after);
  } else {
    after = skipValue(r, p, t & 7, end, c);
  }
  copyRange(w, r.buf, fieldStart, after);
  return after;
}

/** copyChecked for the callers that keep their position in the Reader. */
function copyCheckedField(r: Reader, t: number, end: number, fieldStart: number, w: Writer, strings: StringFields, c: WireCursor): void {
  r.pos = copyChecked(r, r.pos, t, fieldStart, end, w, strings, c);
}

/** InstrumentationScope { name = 1; version = 2; attributes = 3 }. */
function checkScope(r: Reader, start: number, end: number, c: WireCursor): void {
  r.pos = start;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const t = r.uint32();
    const field = t >>> 3;
    if (field >= 1 && field <= 3 && (t & 7) !== WIRE_LEN) throw new WireError(`InstrumentationScope field ${field} has wire type ${t & 7} at byte ${fieldStart}`);
    if (field === 1 || field === 2) {
      const stop = readLenBounds(r, end);
      checkUtf8(r.buf, r.pos, stop);
      r.pos = stop;
    } else if (field === 3) {
      const stop = readLenBounds(r, end);
      checkKeyValue(r, r.pos, stop, c);
      r.pos = stop;
    } else {
      skipField(r, t & 7, end);
    }
  }
}

/** ScopeMetrics { scope = 1; metrics = 2; schema_url = 3 }. */
function rewriteScopeMetrics(r: Reader, end: number, w: Writer, point: PointContext, c: WireCursor): number {
  const buf = r.buf;
  let count = 0;
  let p = r.pos;
  while (p < end) {
    const fieldStart = p;
    const t = readVarint(buf, p, end, c);
    p = c.pos;
    if (t === LEN2) {
      const stop = readLen(buf, p, end, c);
      const expected = stop - c.pos;
      r.pos = c.pos;
      const lenPos = openField(w, LEN2, expected);
      count += rewriteMetric(r, stop, w, point, c);
      closeField(w, lenPos, expected);
      p = stop;
    } else {
      r.pos = p;
      copyScopeMetricsField(r, t, end, fieldStart, w, c);
      p = r.pos;
    }
  }
  r.pos = end;
  return count;
}

/** A ScopeMetrics field other than `metrics`: the scope (checked) or schema_url / unknown fields, copied. */
function copyScopeMetricsField(r: Reader, t: number, end: number, fieldStart: number, w: Writer, c: WireCursor): void {
  if (t === LEN1) {
    const stop = readLenBounds(r, end);
    checkScope(r, r.pos, stop, c);
    r.pos = stop;
    copyFieldSince(r, fieldStart, w);
  } else {
    if (t >>> 3 === 1 || t >>> 3 === 2) throw new WireError(`ScopeMetrics field ${t >>> 3} has wire type ${t & 7} at byte ${fieldStart}`);
    copyCheckedField(r, t, end, fieldStart, w, STRING_FIELDS_OF_CONTAINER, c);
  }
}

/** Metric { name = 1; description = 2; unit = 3; oneof data { gauge = 5; sum = 7; histogram = 9; exponential_histogram = 10; summary = 11 }; metadata = 12 }. */
function rewriteMetric(r: Reader, end: number, w: Writer, point: PointContext, c: WireCursor): number {
  const buf = r.buf;
  let points = 0;
  let p = r.pos;
  while (p < end) {
    const fieldStart = p;
    const t = readVarint(buf, p, end, c);
    p = c.pos;
    const field = t >>> 3;
    const attributesField = field < ATTRIBUTES_FIELD_BY_DATA.length ? ATTRIBUTES_FIELD_BY_DATA[field]! : 0;
    if (attributesField !== 0 && (t & 7) === WIRE_LEN) {
      const stop = readLen(buf, p, end, c);
      const expected = stop - c.pos;
      r.pos = c.pos;
      const lenPos = openField(w, t, expected);
      points += rewriteData(r, stop, w, attributesField, point, c);
      closeField(w, lenPos, expected);
      p = stop;
    } else if (t === METADATA) {
      const stop = readLen(buf, p, end, c);
      checkKeyValue(r, c.pos, stop, c);
      copyRange(w, buf, fieldStart, stop);
      p = stop;
    } else {
      if (attributesField !== 0 || field === 12) throw new WireError(`Metric field ${field} has wire type ${t & 7} at byte ${fieldStart}`);
      p = copyChecked(r, p, t, fieldStart, end, w, STRING_FIELDS_OF_METRIC, c);
    }
  }
  r.pos = end;
  return points;
}

const METADATA = tag(12, WIRE_LEN);

/** Gauge / Sum / Histogram / ExponentialHistogram / Summary: `data_points = 1` rewritten, other fields copied. */
function rewriteData(r: Reader, end: number, w: Writer, attributesField: number, point: PointContext, c: WireCursor): number {
  const attributesTag = tag(attributesField, WIRE_LEN);
  const buf = r.buf;
  let count = 0;
  let p = r.pos;
  while (p < end) {
    const fieldStart = p;
    const t = readVarint(buf, p, end, c);
    p = c.pos;
    if (t === LEN1) {
      const stop = readLen(buf, p, end, c);
      const expected = stop - c.pos;
      r.pos = c.pos;
      const lenPos = openField(w, LEN1, expected);
      rewriteDataPoint(r, stop, w, attributesTag, point, c);
      closeField(w, lenPos, expected);
      count++;
      p = stop;
    } else {
      if (t >>> 3 === 1) throw new WireError(`field 1 has wire type ${t & 7} at byte ${fieldStart}`);
      p = copyChecked(r, p, t, fieldStart, end, w, NO_STRING_FIELDS, c);
    }
  }
  r.pos = end;
  return count;
}

/**
 * Copies a data point, replacing its `Dimensions` kvlist attribute by one attribute per dimension, and
 * adding the attributes of the AWS resource its namespace and dimensions identify, when known.
 * Other fields (times, count, sum, quantiles, flags) are copied as they came.
 */
function rewriteDataPoint(r: Reader, end: number, w: Writer, attributesTag: number, point: PointContext, c: WireCursor): void {
  // One pass locates the Dimensions attribute (and the Namespace, for the lookup) and checks every other
  // field; then everything but Dimensions is copied in at most two ranges, the dimensions after it.
  const buf = r.buf;
  const start = r.pos;
  let p = start;
  let dimsFieldStart = -1;
  let dimsFieldEnd = -1;
  let dimsStart = -1;
  let dimsEnd = -1;
  let namespaceStart = -1;
  let namespaceEnd = -1;
  /** Where the contents of a Dimensions attribute located but not checked yet begin (see locateDimensions), or -1. */
  let dimsUnchecked = -1;
  /** Which of Namespace (1) and MetricName (2) are among the attribute keys other than Dimensions (for a known scope only). */
  let usual = 0;
  const keys = attributeKeys;
  let keyCount = 0;
  while (p < end) {
    const fieldStart = p;
    const t = readVarint(buf, p, end, c);
    p = c.pos;
    if (t === attributesTag) {
      const stop = readLen(buf, p, end, c);
      p = c.pos;
      if (point.scope && dimsStart < 0 && locateDimensions(buf, p, stop, c)) {
        dimsStart = c.pos;
        dimsEnd = stop;
        dimsFieldStart = fieldStart;
        dimsFieldEnd = stop;
        dimsUnchecked = p;
        p = stop;
        continue;
      }
      scanKeyValue(r, p, stop, c);
      const keyStart = c.keyStart;
      const keyEnd = c.keyEnd;
      if (keyStart >= 0) {
        if (dimsStart < 0 && c.kvlistStart >= 0 && bytesEqual(buf, keyStart, keyEnd, DIMENSIONS)) {
          dimsStart = c.kvlistStart;
          dimsEnd = c.kvlistEnd;
          dimsFieldStart = fieldStart;
          dimsFieldEnd = stop;
        } else {
          if (keyCount === 2 * MAX_ATTRIBUTES_PER_POINT) throw new RecordError('too_large', `a data point has more than ${MAX_ATTRIBUTES_PER_POINT} attributes`);
          keys[keyCount++] = keyStart;
          keys[keyCount++] = keyEnd;
          if (point.scope) {
            if (bytesEqual(buf, keyStart, keyEnd, NAMESPACE)) {
              usual |= 1;
              if (c.stringStart >= 0) {
                namespaceStart = c.stringStart;
                namespaceEnd = c.stringEnd;
              }
            } else if (bytesEqual(buf, keyStart, keyEnd, METRIC_NAME)) {
              usual |= 2;
            }
          }
        }
      }
      p = stop;
    } else {
      if (t >>> 3 === attributesTag >>> 3) throw new WireError(`data point attributes have wire type ${t & 7} at byte ${fieldStart}`);
      p = skipValue(r, p, t & 7, end, c);
    }
  }
  r.pos = end;
  // The lookup first: a hit says that these Dimensions bytes were checked when they were first seen.
  let e = -1;
  if (point.scope && namespaceStart >= 0) e = lookup(r, point, namespaceStart, namespaceEnd, dimsStart, dimsEnd, dimsUnchecked, c);
  else if (dimsUnchecked >= 0) checkKeyValue(r, dimsUnchecked, dimsEnd, c);
  if (dimsFieldStart < 0) {
    copyRange(w, buf, start, end);
  } else {
    copyRange(w, buf, start, dimsFieldStart);
    copyRange(w, buf, dimsFieldEnd, end);
  }
  // A data point as CloudWatch writes it: its other attributes are exactly Namespace and MetricName, so how its
  // dimensions are written (a dimension named like one of those is renamed) depends on its Dimensions bytes alone,
  // and what the first such data point of a lookup was given is copied as it is.
  const asUsual = e >= 0 && dimsStart >= 0 && usual === 3 && keyCount === 4 && !point.collect;
  if (asUsual && point.cache!.fieldsTag[e] === attributesTag && point.cache!.dimensionsAndFields[e]) {
    const cache = point.cache!;
    cache.counts[cache.tallyOf[e]!]!++;
    writeBytes(w, cache.dimensionsAndFields[e]!);
    return;
  }
  const dimsAt = w.pos;
  if (dimsStart >= 0) writeDimensions(r, dimsStart, dimsEnd, w, attributesTag, keys, keyCount, c);
  if (e >= 0) {
    const cache = point.cache!;
    cache.counts[cache.tallyOf[e]!]!++;
    if (point.collect) noteGroup(point.collect, cache.resources[e] ?? null);
    else {
      const fieldsTag = cache.fieldsTag[e]!;
      if (fieldsTag === attributesTag) {
        // Kept with the dimensions as written now (its first data point had other attribute keys).
        if (asUsual) cache.setFields(e, attributesTag, cache.fields[e]!, w.buf.subarray(dimsAt, w.pos));
        writeBytes(w, cache.fields[e]!);
      } else if (fieldsTag !== NO_RESOURCE) {
        // First use of this lookup for this attributes tag: written from the resource, kept in the arena for the next.
        const fields = attributeFields(cache.resources[e]!, attributesTag);
        cache.setFields(e, attributesTag, fields, asUsual ? w.buf.subarray(dimsAt, w.pos) : undefined);
        w.raw(fields);
      }
    }
  } else if (point.collect) {
    noteGroup(point.collect, null);
  }
}

/**
 * The lookup of a data point's resource: the Namespace's UTF-8 bytes and the encoded Dimensions list identify
 * it, each distinct pair looked up once per snapshot and found again by a numeric hash checked byte for byte
 * (no string per data point). Returns the lookup cache's entry. Dimensions not checked yet are checked before
 * a lookup that found nothing is added; a lookup found again was added only after its bytes were checked.
 */
function lookup(r: Reader, point: PointContext, nsStart: number, nsEnd: number, dimsStart: number, dimsEnd: number, dimsUnchecked: number, c: WireCursor): number {
  const buf = r.buf;
  const dStart = dimsStart >= 0 ? dimsStart : 0;
  const dEnd = dimsStart >= 0 ? dimsEnd : 0;
  const hash = lookupKeyHash(buf, nsStart, nsEnd, dStart, dEnd);
  const cache = point.cache!;
  const e = cache.find(hash, buf, nsStart, nsEnd, dStart, dEnd);
  if (e >= 0) return e;
  if (dimsUnchecked >= 0) checkKeyValue(r, dimsUnchecked, dimsEnd, c);
  const namespace = utf8(r, nsStart, nsEnd);
  const resource = lookupMetric(point.scope!, namespace, dimsStart >= 0 ? readDimensions(r, dimsStart, dimsEnd, c) : new Map());
  return cache.add(hash, buf, nsStart, nsEnd, dStart, dEnd, resource, cache.tally(namespace, resource !== undefined));
}

/** KeyValue.key = 1 "Dimensions"; its value = 2 is an AnyValue whose kvlist_value = 6. */
const DIMENSIONS_KEY = Buffer.concat([Buffer.from([LEN1, DIMENSIONS.length]), DIMENSIONS]);
const KVLIST_VALUE = tag(6, WIRE_LEN);

/**
 * Locates, without checking it, a data point attribute encoded as CloudWatch writes `Dimensions`: the key
 * `Dimensions`, then a value that holds only a kvlist reaching to the attribute's end. Leaves where the
 * kvlist's contents start in `c.pos` (they end at `end`). Anything else is left to scanKeyValue.
 */
function locateDimensions(buf: Uint8Array, p: number, end: number, c: WireCursor): boolean {
  const valueTagAt = p + DIMENSIONS_KEY.length;
  if (valueTagAt + 1 >= end || buf[valueTagAt] !== LEN2) return false;
  for (let i = 0; i < DIMENSIONS_KEY.length; i++) if (buf[p + i] !== DIMENSIONS_KEY[i]) return false;
  // A length that does not reach exactly to the end is left to the scan (a malformed one throws here as it would there).
  const valueLength = readVarint(buf, valueTagAt + 1, end, c);
  const listTagAt = c.pos;
  if (listTagAt + valueLength !== end || listTagAt >= end || buf[listTagAt] !== KVLIST_VALUE) return false;
  const listLength = readVarint(buf, listTagAt + 1, end, c);
  return c.pos + listLength === end;
}

function noteGroup(collect: NonNullable<PointContext['collect']>, group: IndexedResource | null): void {
  if (collect.group === undefined) collect.group = group;
  else if (collect.group !== group) collect.mixed = true;
}

/**
 * Key bounds of the data point being rewritten, as start/end pairs: one array for every point (an array
 * emptied with `length = 0` and pushed to again allocated a backing store on every data point).
 */
const attributeKeys = new Int32Array(2 * MAX_ATTRIBUTES_PER_POINT);

/** KeyValueList → dimension name → string value. */
function readDimensions(r: Reader, start: number, end: number, c: WireCursor): Map<string, string> {
  const dims = new Map<string, string>();
  const saved = r.pos;
  r.pos = start;
  while (r.pos < end) {
    const t = r.uint32();
    if (t !== LEN1) {
      skipField(r, t & 7, end);
      continue;
    }
    const stop = readLenBounds(r, end);
    scanKeyValue(r, r.pos, stop, c);
    if (c.keyStart >= 0) dims.set(utf8(r, c.keyStart, c.keyEnd), scannedString(r, c) ?? '');
    r.pos = stop;
  }
  r.pos = saved;
  return dims;
}

/** KeyValueList { values = 1 (KeyValue) }: each KeyValue becomes a data point attribute of its own. */
function writeDimensions(r: Reader, start: number, end: number, w: Writer, attributesTag: number, keys: Int32Array, keyCount: number, c: WireCursor): void {
  const buf = r.buf;
  let p = start;
  let count = keyCount / 2;
  while (p < end) {
    const t = readVarint(buf, p, end, c);
    p = c.pos;
    if (t !== LEN1) {
      p = skipValue(r, p, t & 7, end, c);
      continue;
    }
    if (++count > MAX_ATTRIBUTES_PER_POINT) throw new RecordError('too_large', `a data point has more than ${MAX_ATTRIBUTES_PER_POINT} attributes`);
    const stop = readLen(buf, p, end, c);
    p = c.pos;
    let collides = false;
    if (findKey(r, p, stop, c)) {
      for (let i = 0; i < keyCount && !collides; i += 2) collides = rangesEqual(buf, keys[i]!, keys[i + 1]!, c.keyStart, c.keyEnd);
    }
    if (collides) {
      writeRenamedKeyValue(r, p, stop, [c.keyStart, c.keyEnd], w, attributesTag);
    } else {
      w.uint32(attributesTag).uint32(stop - p);
      copyRange(w, buf, p, stop);
    }
    p = stop;
  }
}

/** Writes the KeyValue spanning [start, stop) under the key `Dimensions.<key>`, its value copied. */
function writeRenamedKeyValue(r: Reader, start: number, stop: number, key: [number, number], w: Writer, attributesTag: number): void {
  const name = DIMENSION_COLLISION_PREFIX + Buffer.from(r.buf.subarray(key[0], key[1])).toString('utf8');
  w.uint32(attributesTag).fork().uint32(LEN1).string(name);
  r.pos = start;
  while (r.pos < stop) {
    const fieldStart = r.pos;
    const t = r.uint32();
    skipField(r, t & 7, stop);
    if (t !== LEN1) copyFieldSince(r, fieldStart, w);
  }
  w.ldelim();
}
