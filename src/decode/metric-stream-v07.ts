import {
  Reader,
  Writer,
  WIRE_LEN,
  checkUtf8,
  copyFieldSince,
  readLenBounds,
  skipField,
  tag,
  utf8,
  type Reader as ReaderT,
  type Writer as WriterT,
} from '../otlp/wire.ts';
import { lengthPrefixedFrames } from './length-prefixed.ts';
import { RecordError } from './record-error.ts';

/**
 * CloudWatch Metric Streams in the **OpenTelemetry 0.7.0** output format. Its messages are the 1.0 ones
 * on the wire (`instrumentation_library_metrics` = 2 is `scope_metrics` = 2, `double_summary` = 11 is
 * `summary` = 11, the data point's times, count, sum and quantiles have the same numbers) except for one
 * field: a data point's `labels` (1, StringKeyValue {key = 1; value = 2}) where 1.0 has `attributes`
 * (7, KeyValue with an AnyValue). CloudWatch writes Namespace, MetricName and each dimension as a label.
 *
 * Each frame is translated to the frame the 1.0 format would have carried — Namespace and MetricName as
 * attributes, the other labels in a `Dimensions` kvlist — so that the one metric-stream rewrite serves
 * every format. CloudWatch only writes summaries; a 0.7.0 frame with another kind of data is refused by name.
 */

const LEN = (field: number) => tag(field, WIRE_LEN);
const OTHER_KINDS: Readonly<Record<number, string>> = {
  4: 'int_gauge',
  5: 'double_gauge',
  6: 'int_sum',
  7: 'double_sum',
  8: 'int_histogram',
  9: 'double_histogram',
};

/**
 * True when a record's first data point has 0.7.0 labels (or its first metric a 0.7.0-only kind): the
 * first frame is walked down to it. A record this cannot read is left to the 1.0 decoder to name.
 */
export function isOpenTelemetry07Record(record: Uint8Array): boolean {
  try {
    const r = Reader.create(record);
    for (const frame of lengthPrefixedFrames(record)) {
      const found = firstPointKind(r, frame.start, frame.end);
      if (found !== undefined) return found;
    }
  } catch {
    return false;
  }
  return false;
}

/** Descends into the first field `field` (length-delimited) of [start, end); returns its bounds. */
function child(r: ReaderT, start: number, end: number, field: number): [number, number] | undefined {
  r.pos = start;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === LEN(field)) {
      const stop = readLenBounds(r, end);
      return [r.pos, stop];
    }
    skipField(r, t & 7, end);
  }
  return undefined;
}

function firstPointKind(r: ReaderT, start: number, end: number): boolean | undefined {
  const rm = child(r, start, end, 1);
  const sm = rm && child(r, rm[0], rm[1], 2);
  const metric = sm && child(r, sm[0], sm[1], 2);
  if (!metric) return undefined;
  r.pos = metric[0];
  while (r.pos < metric[1]) {
    const t = r.uint32();
    const field = t >>> 3;
    if ((field === 4 || field === 6 || field === 8) && (t & 7) === WIRE_LEN) return true;
    if (field === 11 && (t & 7) === WIRE_LEN) {
      const stop = readLenBounds(r, metric[1]);
      const point = child(r, r.pos, stop, 1);
      if (!point) return undefined;
      return child(r, point[0], point[1], 1) !== undefined;
    }
    skipField(r, t & 7, metric[1]);
  }
  return undefined;
}

/** Copies [start, end) of a message, handing each length-delimited field listed in `into` to its translator. */
function walk(r: ReaderT, start: number, end: number, w: WriterT, into: Readonly<Record<number, (s: number, e: number) => void>>): void {
  r.pos = start;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const t = r.uint32();
    const translate = (t & 7) === WIRE_LEN ? into[t >>> 3] : undefined;
    if (translate) {
      const stop = readLenBounds(r, end);
      w.uint32(t).fork();
      translate(r.pos, stop);
      w.ldelim();
      r.pos = stop;
    } else {
      skipField(r, t & 7, end);
      copyFieldSince(r, fieldStart, w);
    }
  }
}

function stringKeyValue(r: ReaderT, start: number, end: number): [string, string] {
  let key = '';
  let value = '';
  r.pos = start;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === LEN(1) || t === LEN(2)) {
      const stop = readLenBounds(r, end);
      checkUtf8(r.buf, r.pos, stop);
      if (t === LEN(1)) key = utf8(r, r.pos, stop);
      else value = utf8(r, r.pos, stop);
      r.pos = stop;
    } else {
      skipField(r, t & 7, end);
    }
  }
  return [key, value];
}

/** DoubleSummaryDataPoint → SummaryDataPoint: labels out, attributes (7) in, everything else as it was. */
function translatePoint(r: ReaderT, start: number, end: number, w: WriterT): void {
  const labels: Array<[string, string]> = [];
  r.pos = start;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const t = r.uint32();
    if (t === LEN(1)) {
      const stop = readLenBounds(r, end);
      labels.push(stringKeyValue(r, r.pos, stop));
      r.pos = stop;
    } else {
      skipField(r, t & 7, end);
      copyFieldSince(r, fieldStart, w);
    }
  }
  const str = (key: string, value: string) => {
    w.uint32(LEN(1)).string(key);
    w.uint32(LEN(2)).fork().uint32(LEN(1)).string(value).ldelim();
  };
  const dimensions: Array<[string, string]> = [];
  for (const [key, value] of labels) {
    if (key === 'Namespace' || key === 'MetricName') {
      w.uint32(LEN(7)).fork();
      str(key, value);
      w.ldelim();
    } else {
      dimensions.push([key, value]);
    }
  }
  // Dimensions { kvlist_value (6) { values (1) … } }, as the 1.0 format carries them.
  w.uint32(LEN(7)).fork().uint32(LEN(1)).string('Dimensions').uint32(LEN(2)).fork().uint32(LEN(6)).fork();
  for (const [key, value] of dimensions) {
    w.uint32(LEN(1)).fork();
    str(key, value);
    w.ldelim();
  }
  w.ldelim().ldelim().ldelim();
}

function translateMetric(r: ReaderT, start: number, end: number, w: WriterT): void {
  r.pos = start;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const t = r.uint32();
    const field = t >>> 3;
    if (OTHER_KINDS[field] && (t & 7) === WIRE_LEN) {
      throw new RecordError(
        'format',
        `OpenTelemetry 0.7.0 metric holds ${OTHER_KINDS[field]}; CloudWatch writes double_summary only, and firetap translates only that`,
      );
    }
    if (field === 11 && (t & 7) === WIRE_LEN) {
      const stop = readLenBounds(r, end);
      w.uint32(t).fork();
      walk(r, r.pos, stop, w, { 1: (s, e) => translatePoint(r, s, e, w) });
      w.ldelim();
      r.pos = stop;
    } else {
      skipField(r, t & 7, end);
      copyFieldSince(r, fieldStart, w);
    }
  }
}

/** The record's frames, each translated to the OpenTelemetry 1.0 shape (unprefixed ExportMetricsServiceRequest bytes). */
export function openTelemetry07ToFrames(record: Uint8Array): Uint8Array[] {
  const r = Reader.create(record);
  const out: Uint8Array[] = [];
  let index = 0;
  for (const frame of lengthPrefixedFrames(record)) {
    const w = Writer.create();
    try {
      walk(r, frame.start, frame.end, w, {
        1: (s, e) =>
          walk(r, s, e, w, {
            2: (s2, e2) => walk(r, s2, e2, w, { 2: (s3, e3) => translateMetric(r, s3, e3, w) }),
          }),
      });
    } catch (err) {
      if (err instanceof RecordError) throw err;
      throw new RecordError('protobuf', `frame ${index} is not an OpenTelemetry 0.7.0 ExportMetricsServiceRequest: ${(err as Error).message}`);
    }
    out.push(w.finish());
    index++;
  }
  return out;
}
