import { EnrichmentStats as Stats } from '../../enrich/enrichment-stats.ts';
import type { IndexedResource } from '../../enrich/snapshot.ts';
import { WIRE_LEN, WireError, Writer, tag, type Reader } from '../../otlp/wire-format.ts';
import { readLenBounds, skipField, utf8, type WireCursor } from '../../otlp/wire-read.ts';
import { copyRange } from '../../otlp/wire-write.ts';
import type { MetricStreamContext, PointContext } from './context.ts';
import { rewriteResource } from './resource.ts';
import { STRING_FIELDS_OF_CONTAINER, copyCheckedField, copyScopeMetricsField } from './strict-copy.ts';
import { rewriteMetric, rewriteResourceMetrics } from './walkers.ts';

const LEN1 = tag(1, WIRE_LEN);
const LEN2 = tag(2, WIRE_LEN);

/**
 * One ResourceMetrics rewritten with the data points of each known AWS resource grouped under an OTLP
 * Resource of their own: the resource CloudWatch sent (with the extra attributes) plus the AWS resource's
 * attributes, once, instead of on every data point. Data points of no known resource stay under the
 * resource as sent. A metric whose data points belong to different resources (CloudWatch writes one data
 * point per metric, so only other producers) keeps the attributes on its data points. Writes 1…n
 * ResourceMetrics; returns the data points written.
 */
export function rewriteResourceMetricsGrouped(r: Reader, end: number, w: Writer, ctx: MetricStreamContext, c: WireCursor): number {
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
