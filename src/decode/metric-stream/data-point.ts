import { NO_RESOURCE } from '../../enrich/lookup-cache.ts';
import { attributeFields, type IndexedResource } from '../../enrich/snapshot.ts';
import { WireError, type Reader, type Writer } from '../../otlp/wire-format.ts';
import { checkKeyValue, scanKeyValue } from '../../otlp/wire-key-value.ts';
import { bytesEqual, readLen, readVarint, skipValue, type WireCursor } from '../../otlp/wire-read.ts';
import { copyRange, writeBytes } from '../../otlp/wire-write.ts';
import { RecordError } from '../record-error.ts';
import { MAX_ATTRIBUTES_PER_POINT, type PointContext } from './context.ts';
import { DIMENSIONS, locateDimensions, writeDimensions } from './dimensions.ts';
import { lookup } from './tags.ts';

const NAMESPACE = Buffer.from('Namespace');
const METRIC_NAME = Buffer.from('MetricName');

/**
 * Copies a data point, replacing its `Dimensions` kvlist attribute by one attribute per dimension, and
 * adding the attributes of the AWS resource its namespace and dimensions identify, when known.
 * Other fields (times, count, sum, quantiles, flags) are copied as they came.
 */
export function rewriteDataPoint(r: Reader, end: number, w: Writer, attributesTag: number, point: PointContext, c: WireCursor): void {
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
          if (keyCount === 2 * MAX_ATTRIBUTES_PER_POINT)
            throw new RecordError('too_large', `a data point has more than ${MAX_ATTRIBUTES_PER_POINT} attributes`);
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

function noteGroup(collect: NonNullable<PointContext['collect']>, group: IndexedResource | null): void {
  if (collect.group === undefined) collect.group = group;
  else if (collect.group !== group) collect.mixed = true;
}

/**
 * Key bounds of the data point being rewritten, as start/end pairs: one array for every point (an array
 * emptied with `length = 0` and pushed to again allocated a backing store on every data point).
 */
const attributeKeys = new Int32Array(2 * MAX_ATTRIBUTES_PER_POINT);
