import { Reader } from '../otlp/wire-format.ts';

/*
 * An OTLP ExportMetricsServiceRequest read into just what the Prometheus mapping needs: attributes as a
 * name → string record, numbers as numbers, nothing else kept. Walked field by field (opentelemetry-proto's field
 * numbers), not decoded into protobufjs messages and then copied into plain objects: that double allocation was
 * most of the remote-write exporter's time (docs/performance.md).
 */

export type Attributes = Record<string, string>;

export interface DataPoint {
  attributes: Attributes;
  timeMs: number;
  flags: number;
  /** Gauge and Sum. */
  value: number;
  /** Histogram, exponential histogram, summary. */
  count: number;
  sum: number | undefined;
  bounds: number[];
  bucketCounts: number[];
  quantiles: Array<{ quantile: number; value: number }>;
}

export type MetricKind = 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary';

export interface MetricData {
  name: string;
  kind: MetricKind | undefined;
  monotonic: boolean;
  /** 1 delta, 2 cumulative. */
  temporality: number;
  points: DataPoint[];
}

export interface ResourceData {
  attributes: Attributes;
  metrics: MetricData[];
}

const KINDS: Record<number, MetricKind> = { 5: 'gauge', 7: 'sum', 9: 'histogram', 10: 'exponentialHistogram', 11: 'summary' };
/** The field number of a data point's attributes, by kind. */
const ATTRIBUTES_FIELD: Record<MetricKind, number> = { gauge: 7, sum: 7, histogram: 9, exponentialHistogram: 1, summary: 7 };

export function readMetricsRequest(payload: Uint8Array): ResourceData[] {
  const out: ResourceData[] = [];
  eachResource(payload, (resource) => out.push(resource));
  return out;
}

/** Each resource of the request in turn, read when its turn comes (so a resource's points die young once used). */
export function eachResource(payload: Uint8Array, use: (resource: ResourceData) => void): void {
  const r = Reader.create(payload);
  fields(r, payload.length, (field, end) => {
    if (field !== 1) return;
    const resource: ResourceData = { attributes: {}, metrics: [] };
    fields(r, end, (f, e) => {
      if (f === 1)
        fields(r, e, (a, ae) => {
          if (a === 1) keyValue(r, ae, resource.attributes);
        });
      else if (f === 2)
        fields(r, e, (m, me) => {
          if (m === 2) resource.metrics.push(metric(r, me));
        });
    });
    use(resource);
  });
}

function metric(r: Reader, end: number): MetricData {
  const m: MetricData = { name: '', kind: undefined, monotonic: false, temporality: 0, points: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === 2) m.name = r.string();
    else if (KINDS[field] !== undefined && (tag & 7) === 2) {
      const kind = KINDS[field]!;
      m.kind = kind;
      const stop = r.uint32() + r.pos;
      while (r.pos < stop) {
        const t = r.uint32();
        if (t === ((1 << 3) | 2)) m.points.push(point(r, r.uint32() + r.pos, kind));
        else if (t === 2 << 3) m.temporality = r.int32();
        else if (t === 3 << 3) m.monotonic = r.bool();
        else r.skipType(t & 7);
      }
    } else r.skipType(tag & 7);
  }
  return m;
}

/** The arrays a point has not needed (most: a gauge or summary has no buckets), shared and frozen. */
const NONE = Object.freeze([]) as never[];

function point(r: Reader, end: number, kind: MetricKind): DataPoint {
  const p: DataPoint = { attributes: {}, timeMs: 0, flags: 0, value: 0, count: 0, sum: undefined, bounds: NONE, bucketCounts: NONE, quantiles: NONE };
  const attributesField = ATTRIBUTES_FIELD[kind];
  const number = kind === 'gauge' || kind === 'sum';
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === attributesField && wire === 2) keyValue(r, r.uint32() + r.pos, p.attributes);
    else if (field === 3 && wire === 1) p.timeMs = Math.round(fixed64(r) / 1e6);
    else if (number && field === 4 && wire === 1) p.value = r.double();
    else if (number && field === 6 && wire === 1) p.value = sfixed64(r);
    else if (number && field === 8 && wire === 0) p.flags = r.uint32();
    else if (!number && field === 10 && wire === 0 && kind !== 'summary') p.flags = r.uint32();
    else if (kind === 'summary' && field === 8 && wire === 0) p.flags = r.uint32();
    else if (!number && field === 4 && wire === 1) p.count = fixed64(r);
    else if (!number && field === 5 && wire === 1) p.sum = r.double();
    else if (kind === 'summary' && field === 6 && wire === 2) (p.quantiles === NONE ? (p.quantiles = []) : p.quantiles).push(quantile(r, r.uint32() + r.pos));
    else if (kind === 'histogram' && field === 6)
      repeated(r, wire, 1, () => (p.bucketCounts === NONE ? (p.bucketCounts = []) : p.bucketCounts).push(fixed64(r)));
    else if (kind === 'histogram' && field === 7) repeated(r, wire, 1, () => (p.bounds === NONE ? (p.bounds = []) : p.bounds).push(r.double()));
    else r.skipType(wire);
  }
  return p;
}

function quantile(r: Reader, end: number): { quantile: number; value: number } {
  const q = { quantile: 0, value: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | 1)) q.quantile = r.double();
    else if (tag === ((2 << 3) | 1)) q.value = r.double();
    else r.skipType(tag & 7);
  }
  return q;
}

/** A repeated fixed-width field, packed (wire type 2) or not (`unpacked`, one value per tag). */
function repeated(r: Reader, wire: number, unpacked: number, read: () => void): void {
  if (wire === unpacked) read();
  else if (wire === 2) {
    const stop = r.uint32() + r.pos;
    while (r.pos < stop) read();
  } else r.skipType(wire);
}

/** One KeyValue into `into`: a scalar as it prints, an array or kvlist as JSON. */
function keyValue(r: Reader, end: number, into: Attributes): void {
  let key = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ((1 << 3) | 2)) key = r.string();
    else if (tag === ((2 << 3) | 2)) value = anyValue(r, r.uint32() + r.pos);
    else r.skipType(tag & 7);
  }
  if (key) into[key] = value;
}

function anyValue(r: Reader, end: number): string {
  let text = '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case (1 << 3) | 2:
        text = r.string();
        break;
      case 2 << 3:
        text = String(r.bool());
        break;
      case 3 << 3:
        text = r.int64().toString();
        break;
      case (4 << 3) | 1:
        text = String(r.double());
        break;
      case (5 << 3) | 2: {
        const values: string[] = [];
        fields(r, r.uint32() + r.pos, (f, e) => {
          if (f === 1) values.push(anyValue(r, e));
        });
        text = JSON.stringify(values);
        break;
      }
      case (6 << 3) | 2: {
        const kv: Attributes = {};
        fields(r, r.uint32() + r.pos, (f, e) => {
          if (f === 1) keyValue(r, e, kv);
        });
        text = JSON.stringify(kv);
        break;
      }
      case (7 << 3) | 2:
        text = Buffer.from(r.bytes()).toString('base64');
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return text;
}

/**
 * Each length-delimited field before `end`: `inside(field, its end)` with the reader at its contents (what it does
 * not read is skipped, as is any field of another wire type).
 */
function fields(r: Reader, end: number, inside: (field: number, end: number) => void): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if ((tag & 7) !== 2) {
      r.skipType(tag & 7);
      continue;
    }
    const stop = r.uint32() + r.pos;
    inside(tag >>> 3, stop);
    r.pos = stop;
  }
}

const fixed64 = (r: Reader): number => {
  const lo = r.fixed32();
  return r.fixed32() * 4294967296 + lo;
};
const sfixed64 = (r: Reader): number => {
  const lo = r.fixed32();
  return r.sfixed32() * 4294967296 + lo;
};
