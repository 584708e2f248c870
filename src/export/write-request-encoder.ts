import { type Collected, type LabelSet, ordered, type SeriesSet } from './prometheus-series.ts';

/*
 * A remote-write 1.0 WriteRequest (prometheus/prompb: WriteRequest `timeseries = 1`; TimeSeries `labels = 1`,
 * `samples = 2`; Label `name = 1`, `value = 2`; Sample `double value = 1`, `int64 timestamp = 2`), written in two
 * passes into one buffer: sizes first, then bytes. A data point's label set is encoded once for all the series it
 * makes (a summary's 5–7), and `__name__` and a `quantile`/`le` label are merged in at their sorted places.
 */

const TAG_TIMESERIES = (1 << 3) | 2;
const TAG_LABEL = (1 << 3) | 2;
const TAG_SAMPLE = (2 << 3) | 2;
const TAG_NAME = (1 << 3) | 2;
const TAG_VALUE = (2 << 3) | 2;
const TAG_DOUBLE = (1 << 3) | 1;
const TAG_TIMESTAMP = 2 << 3;

export function encodeWriteRequest(set: SeriesSet): Buffer {
  const pieces = new Map<string, Buffer>();
  const piece = (name: string, value: string): Buffer => {
    const key = `${name}\u0000${value}`;
    let bytes = pieces.get(key);
    if (!bytes) pieces.set(key, (bytes = labelField(name, value)));
    return bytes;
  };
  const plan: Array<{ labels: Buffer[]; timestamps: number[]; values: number[]; body: number }> = [];
  let total = 0;
  for (const series of set.collected()) {
    const labels = sortedPieces(series, piece);
    const { timestamps, values } = samplesOf(series);
    let body = 0;
    for (const l of labels) body += l.length;
    for (const t of timestamps) body += sampleFieldSize(t);
    plan.push({ labels, timestamps, values, body });
    total += 1 + varintSize(body) + body;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const { labels, timestamps, values, body } of plan) {
    out[pos++] = TAG_TIMESERIES;
    pos = writeVarint(out, pos, body);
    for (const l of labels) pos += l.copy(out, pos);
    for (let i = 0; i < timestamps.length; i++) {
      const t = timestamps[i]!;
      out[pos++] = TAG_SAMPLE;
      out[pos++] = 10 + varintSize(t);
      out[pos++] = TAG_DOUBLE;
      pos = out.writeDoubleLE(values[i]!, pos);
      out[pos++] = TAG_TIMESTAMP;
      pos = writeVarint(out, pos, t);
    }
  }
  return out;
}

/** The series' labels as encoded fields in name order: its set's, with `__name__` and its extra label merged in. */
function sortedPieces(series: Collected, piece: (name: string, value: string) => Buffer): Buffer[] {
  const set: LabelSet = series.labels;
  set.encoded ??= set.pairs.map(([name, value]) => labelField(name, value));
  const merged: Buffer[] = [];
  const extra = series.extra;
  let nameDone = false;
  let extraDone = extra === undefined;
  for (let i = 0; i < set.pairs.length; i++) {
    const at = set.pairs[i]![0];
    // '__name__' sorts before any extra label firetap adds (`le`, `quantile`).
    if (!nameDone && '__name__' < at) {
      merged.push(piece('__name__', series.name));
      nameDone = true;
    }
    if (!extraDone && nameDone && extra![0] < at) {
      merged.push(piece(extra![0], extra![1]));
      extraDone = true;
    }
    merged.push(set.encoded[i]!);
  }
  if (!nameDone) merged.push(piece('__name__', series.name));
  if (!extraDone) merged.push(piece(extra![0], extra![1]));
  return merged;
}

function samplesOf(series: Collected): { timestamps: number[]; values: number[] } {
  const { timestamps, values } = series;
  let inOrder = true;
  for (let i = 1; i < timestamps.length && inOrder; i++) inOrder = timestamps[i - 1]! < timestamps[i]!;
  if (inOrder) return { timestamps, values };
  const sorted = ordered(timestamps, values);
  return { timestamps: sorted.map((s) => s.timestampMs), values: sorted.map((s) => s.value) };
}

function labelField(name: string, value: string): Buffer {
  const n = Buffer.byteLength(name);
  const v = Buffer.byteLength(value);
  const inner = 1 + varintSize(n) + n + 1 + varintSize(v) + v;
  const out = Buffer.allocUnsafe(1 + varintSize(inner) + inner);
  let pos = 0;
  out[pos++] = TAG_LABEL;
  pos = writeVarint(out, pos, inner);
  out[pos++] = TAG_NAME;
  pos = writeVarint(out, pos, n);
  pos += out.write(name, pos, 'utf8');
  out[pos++] = TAG_VALUE;
  pos = writeVarint(out, pos, v);
  out.write(value, pos, 'utf8');
  return out;
}

/** A Sample field: its tag, its length (one byte: at most 20), the double and the timestamp. */
const sampleFieldSize = (timestampMs: number): number => 2 + 9 + 1 + varintSize(timestampMs);

/** Varints of non-negative integers up to 2^53 (a millisecond timestamp needs 6 bytes). */
function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v >= 128; v = Math.floor(v / 128)) size++;
  return size;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  let pos = at;
  let v = value;
  while (v >= 128) {
    out[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}
