import { EnrichmentStats as Stats } from '../../enrich/enrichment-stats.ts';
import { WIRE_LEN, WireError, tag, type Reader, type Writer } from '../../otlp/wire-format.ts';
import { checkKeyValue } from '../../otlp/wire-key-value.ts';
import { readLen, readLenBounds, readVarint, type WireCursor } from '../../otlp/wire-read.ts';
import { closeField, copyRange, openField, varintSize } from '../../otlp/wire-write.ts';
import type { MetricStreamContext, PointContext } from './context.ts';
import { rewriteDataPoint } from './data-point.ts';
import { rewriteResource } from './resource.ts';
import { NO_STRING_FIELDS, STRING_FIELDS_OF_CONTAINER, STRING_FIELDS_OF_METRIC, copyChecked, copyCheckedField, copyScopeMetricsField } from './strict-copy.ts';

/* The walk down an ExportMetricsServiceRequest's containers to its data points, each container re-sized as it is copied. */

const LEN1 = tag(1, WIRE_LEN);
const LEN2 = tag(2, WIRE_LEN);

/** Metric.data oneof: field number → the field number of `attributes` in that type's data points (0: not a data field). */
const ATTRIBUTES_FIELD_BY_DATA: readonly number[] = [
  0,
  0,
  0,
  0,
  0,
  7, // 5 gauge → NumberDataPoint.attributes
  0,
  7, // 7 sum → NumberDataPoint.attributes
  0,
  9, // 9 histogram → HistogramDataPoint.attributes
  1, // 10 exponential_histogram → ExponentialHistogramDataPoint.attributes
  7, // 11 summary → SummaryDataPoint.attributes
];

/**
 * How much larger than its input the last ResourceMetrics or ScopeMetrics came out (tags make it about twice
 * as large). Their length prefixes are reserved for the input's size times this, so that a container whose
 * length needs one more varint byte once tagged (a ScopeMetrics of 10 KB becomes 20 KB: past 16,383) is not
 * shifted in memory by closeField.
 */
let containerGrowth = 1;
export const containerGuess = (input: number): number => Math.ceil(input * containerGrowth);
export function closeContainer(w: Writer, lenPos: number, expected: number, input: number): void {
  const len = w.pos - lenPos - varintSize(expected);
  closeField(w, lenPos, expected);
  if (input > 0) containerGrowth = len / input;
}

/** ResourceMetrics { resource = 1; scope_metrics = 2; schema_url = 3 }. Returns data points written. */
export function rewriteResourceMetrics(r: Reader, end: number, w: Writer, ctx: MetricStreamContext, c: WireCursor): number {
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

/** Metric { name = 1; description = 2; unit = 3; oneof data { gauge = 5; sum = 7; histogram = 9; exponential_histogram = 10; summary = 11 }; metadata = 12 }. */
export function rewriteMetric(r: Reader, end: number, w: Writer, point: PointContext, c: WireCursor): number {
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
