import { Writer, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, tag, writeFixed64Nanos } from '../otlp/wire.ts';
import { SCOPE_NAME } from '../version.ts';

const WIRE_DOUBLE = WIRE_FIXED64;

/** What one point of a series read out of log events holds (see LogMetricAggregator). */
export interface SeriesPoint {
  readonly account: string;
  readonly region: string | undefined;
  readonly name: string;
  readonly unit: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: ReadonlyArray<readonly [string, string]>;
  readonly extra: ReadonlyArray<readonly [string, string]>;
  /** A statistic set (Summary), or a count of occurrences (a delta Sum of the values). */
  readonly kind: 'summary' | 'count';
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  readonly firstMs: number;
  readonly lastMs: number;
}

/**
 * ExportMetricsServiceRequest frames (unprefixed), one per account and region in the order they first appear, written
 * field by field: the bytes protobufjs's fromObject + encode of the same request made (a test compares them), for a
 * third of the time — Lambda REPORT lines make a frame for every record of a function's logs.
 */
export function seriesFrames(series: Iterable<SeriesPoint>): Uint8Array[] {
  const byResource = new Map<string, SeriesPoint[]>();
  for (const s of series) {
    const key = `${s.account}\u0000${s.region ?? ''}`;
    let group = byResource.get(key);
    if (!group) byResource.set(key, (group = []));
    group.push(s);
  }
  return [...byResource.values()].map(frame);
}

/** Fields left at proto3's default are not written (protobufjs leaves out an empty string, +0, a zero integer). */
function frame(points: readonly SeriesPoint[]): Uint8Array {
  const { account, region } = points[0]!;
  const w = Writer.create();
  // ResourceMetrics { resource = 1; scope_metrics = 2 }
  w.uint32(tag(1, WIRE_LEN)).fork();
  w.uint32(tag(1, WIRE_LEN)).fork();
  keyValue(w, 1, 'cloud.provider', 'aws');
  keyValue(w, 1, 'cloud.account.id', account);
  if (region) keyValue(w, 1, 'cloud.region', region);
  w.ldelim();
  // ScopeMetrics { scope = 1 { name = 1 }; metrics = 2 }
  w.uint32(tag(2, WIRE_LEN)).fork();
  w.uint32(tag(1, WIRE_LEN)).fork().uint32(tag(1, WIRE_LEN)).string(SCOPE_NAME).ldelim();
  for (const s of points) metric(w, s);
  w.ldelim().ldelim();
  return w.finish();
}

/** Metric { name = 1; unit = 3; sum = 7 | summary = 11 }; a point's fields in field-number order, as protobufjs writes them. */
function metric(w: Writer, s: SeriesPoint): void {
  w.uint32(tag(2, WIRE_LEN)).fork();
  if (s.name !== '') w.uint32(tag(1, WIRE_LEN)).string(s.name);
  if (s.unit !== '') w.uint32(tag(3, WIRE_LEN)).string(s.unit);
  if (s.kind === 'count') {
    // Sum { data_points = 1; aggregation_temporality = 2 (DELTA: each point counts one record's occurrences); is_monotonic = 3 }
    w.uint32(tag(7, WIRE_LEN)).fork();
    w.uint32(tag(1, WIRE_LEN)).fork();
    times(w, s);
    w.uint32(tag(4, WIRE_DOUBLE)).double(s.sum);
    attributes(w, s);
    w.ldelim();
    w.uint32(tag(2, WIRE_VARINT)).int32(1);
    w.uint32(tag(3, WIRE_VARINT)).bool(true);
    w.ldelim();
  } else {
    // Summary { data_points = 1 } → SummaryDataPoint { …; count = 4; sum = 5; quantile_values = 6 (min as 0, max as 1) }
    w.uint32(tag(11, WIRE_LEN)).fork();
    w.uint32(tag(1, WIRE_LEN)).fork();
    times(w, s);
    if (s.count !== 0) w.uint32(tag(4, WIRE_FIXED64)).fixed64(s.count);
    double(w, 5, s.sum);
    w.uint32(tag(6, WIRE_LEN)).fork();
    double(w, 2, s.min);
    w.ldelim();
    w.uint32(tag(6, WIRE_LEN)).fork();
    double(w, 1, 1);
    double(w, 2, s.max);
    w.ldelim();
    attributes(w, s);
    w.ldelim();
    w.ldelim();
  }
  w.ldelim();
}

/** A double field; proto3's default (+0, not -0) is not written, as protobufjs leaves it out. */
function double(w: Writer, field: number, value: number): void {
  if (!Object.is(value, 0)) w.uint32(tag(field, WIRE_DOUBLE)).double(value);
}

/** start_time_unix_nano = 2, time_unix_nano = 3 (nothing for a zero). */
function times(w: Writer, s: SeriesPoint): void {
  for (const [field, ms] of [
    [2, s.firstMs],
    [3, s.lastMs],
  ] as const) {
    if (Math.trunc(ms) === 0) continue;
    w.uint32(tag(field, WIRE_FIXED64));
    writeFixed64Nanos(w, ms);
  }
}

/** attributes = 7: Namespace, MetricName, Dimensions (a kvlist), then the extra ones, as metric streams shape theirs. */
function attributes(w: Writer, s: SeriesPoint): void {
  keyValue(w, 7, 'Namespace', s.namespace);
  keyValue(w, 7, 'MetricName', s.metricName);
  // KeyValue { key = 1; value = 2 { kvlist_value = 6 { values = 1 } } }
  w.uint32(tag(7, WIRE_LEN)).fork();
  w.uint32(tag(1, WIRE_LEN)).string('Dimensions');
  w.uint32(tag(2, WIRE_LEN)).fork().uint32(tag(6, WIRE_LEN)).fork();
  for (const [k, v] of s.dimensions) keyValue(w, 1, k, v);
  w.ldelim().ldelim().ldelim();
  for (const [k, v] of s.extra) keyValue(w, 7, k, v);
}

/** A string KeyValue as field `field`. */
function keyValue(w: Writer, field: number, key: string, value: string): void {
  w.uint32(tag(field, WIRE_LEN)).fork();
  if (key !== '') w.uint32(tag(1, WIRE_LEN)).string(key);
  // string_value is in a oneof: written even when empty.
  w.uint32(tag(2, WIRE_LEN)).fork().uint32(tag(1, WIRE_LEN)).string(value).ldelim();
  w.ldelim();
}
