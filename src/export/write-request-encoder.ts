import { type Collected, type LabelSet, ordered, type SeriesSet } from './prometheus-series.ts';

/*
 * A remote-write 1.0 WriteRequest (prometheus/prompb: WriteRequest `timeseries = 1`; TimeSeries `labels = 1`,
 * `samples = 2`; Label `name = 1`, `value = 2`; Sample `double value = 1`, `int64 timestamp = 2`), written in one
 * pass into one growing buffer kept from request to request. A label set is encoded once, into a scratch buffer
 * also kept, and each of its series copies it in with `__name__` and a `quantile`/`le` field (made once per name)
 * merged in at their sorted places.
 */

const TAG_TIMESERIES = (1 << 3) | 2;
const TAG_LABEL = (1 << 3) | 2;
const TAG_SAMPLE = (2 << 3) | 2;
const TAG_NAME = (1 << 3) | 2;
const TAG_VALUE = (2 << 3) | 2;
const TAG_DOUBLE = (1 << 3) | 1;
const TAG_TIMESTAMP = 2 << 3;

/** The largest buffer kept from one request to the next. */
const KEEP = 16 << 20;
let out = Buffer.allocUnsafeSlow(1 << 20);
let scratch = Buffer.allocUnsafeSlow(1 << 16);
let scratchPos = 0;
/** Which encode a LabelSet's offsets into `scratch` belong to. */
let epoch = 0;

/** Where a label set's fields lie in `scratch`: pair i's ends at `ends[i]`; `__name__` goes before pair `nameAt`. */
interface Encoded {
  epoch: number;
  start: number;
  ends: number[];
  nameAt: number;
}

/** Label fields by name (`__name__`, `le`, `quantile`), then value (each cache starts again past 10,000). */
const fields = new Map<string, Map<string, Buffer>>();
function piece(name: string, value: string): Buffer {
  let pieces = fields.get(name);
  if (pieces === undefined) {
    if (fields.size >= 100) fields.clear();
    fields.set(name, (pieces = new Map()));
  }
  let bytes = pieces.get(value);
  if (bytes === undefined) {
    if (pieces.size >= 10_000) pieces.clear();
    const end = writeLabel(name, value, ensureScratch(labelSize(name, value)));
    bytes = Buffer.from(scratch.subarray(scratchPos, end));
    pieces.set(value, bytes);
  }
  return bytes;
}

/** The WriteRequest of `set`'s series: a view of a buffer the next call overwrites (compress or copy it first). */
export function encodeWriteRequest(set: SeriesSet): Buffer {
  epoch++;
  scratchPos = 0;
  let pos = 0;
  for (const series of set.collected()) {
    const labels = encodedLabels(series.labels);
    const name = piece('__name__', series.name);
    const extra = series.extraName === undefined ? undefined : piece(series.extraName, series.extraValue!);
    let body = labels.ends.length === 0 ? 0 : labels.ends[labels.ends.length - 1]! - labels.start;
    body += name.length + (extra === undefined ? 0 : extra.length);
    if (series.more === undefined) {
      body += 12 + varintSize(series.timestamp);
      pos = ensureOut(pos, 6 + body);
      out[pos++] = TAG_TIMESERIES;
      pos = writeVarint(out, pos, body);
      pos = writeSample(writeLabels(pos, series, labels, name, extra), series.timestamp, series.value);
      continue;
    }
    const { timestamps, values } = samplesOf(series.more);
    for (let i = 0; i < timestamps.length; i++) body += 12 + varintSize(timestamps[i]!);
    pos = ensureOut(pos, 6 + body);
    out[pos++] = TAG_TIMESERIES;
    pos = writeVarint(out, pos, body);
    pos = writeLabels(pos, series, labels, name, extra);
    for (let i = 0; i < timestamps.length; i++) pos = writeSample(pos, timestamps[i]!, values[i]!);
  }
  const body = out.subarray(0, pos);
  // A buffer grown by an outsized request is not kept (the body still holds it until it is compressed).
  if (out.length > KEEP) out = Buffer.allocUnsafeSlow(1 << 20);
  if (scratch.length > KEEP) scratch = Buffer.allocUnsafeSlow(1 << 16);
  return body;
}

function writeSample(at: number, timestampMs: number, value: number): number {
  let pos = at;
  out[pos++] = TAG_SAMPLE;
  out[pos++] = 10 + varintSize(timestampMs);
  out[pos++] = TAG_DOUBLE;
  pos = out.writeDoubleLE(value, pos);
  out[pos++] = TAG_TIMESTAMP;
  return writeVarint(out, pos, timestampMs);
}

/** The series' labels in name order: its set's, with `__name__` and its extra label merged in. */
function writeLabels(at: number, series: Collected, labels: Encoded, name: Buffer, extra: Buffer | undefined): number {
  const pairs = series.labels.pairs;
  let from = labels.start;
  let pos = copy(scratch, from, labels.nameAt === 0 ? from : labels.ends[labels.nameAt - 1]!, at);
  from = labels.nameAt === 0 ? from : labels.ends[labels.nameAt - 1]!;
  pos = copy(name, 0, name.length, pos);
  if (extra !== undefined) {
    // '__name__' sorts before any extra label firetap adds (`le`, `quantile`).
    const extraName = series.extraName!;
    let i = labels.nameAt;
    while (i < pairs.length && !(extraName < pairs[i]![0])) i++;
    const to = i === 0 ? labels.start : labels.ends[i - 1]!;
    pos = copy(scratch, from, to, pos);
    from = to;
    pos = copy(extra, 0, extra.length, pos);
  }
  const end = labels.ends.length === 0 ? labels.start : labels.ends[labels.ends.length - 1]!;
  return copy(scratch, from, end, pos);
}

function encodedLabels(set: LabelSet): Encoded {
  const known = set.encoded as Encoded | undefined;
  if (known !== undefined && known.epoch === epoch) return known;
  const pairs = set.pairs;
  // At most 3 UTF-8 bytes a UTF-16 unit, 18 of tags and lengths a label: no pass over the text to size it.
  let size = 0;
  for (let i = 0; i < pairs.length; i++) size += 18 + 3 * (pairs[i]![0].length + pairs[i]![1].length);
  let pos = ensureScratch(size);
  const encoded: Encoded = { epoch, start: pos, ends: new Array<number>(pairs.length), nameAt: pairs.length };
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    if (encoded.nameAt === pairs.length && '__name__' < pair[0]) encoded.nameAt = i;
    pos = writeLabel(pair[0], pair[1], pos);
    encoded.ends[i] = pos;
  }
  scratchPos = pos;
  set.encoded = encoded;
  return encoded;
}

/** Makes room for `size` more bytes in `scratch` (keeping what is there), returns where they start. */
function ensureScratch(size: number): number {
  if (scratchPos + size > scratch.length) {
    const bigger = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, scratchPos + size));
    scratch.copy(bigger, 0, 0, scratchPos);
    scratch = bigger;
  }
  return scratchPos;
}

function ensureOut(pos: number, size: number): number {
  if (pos + size > out.length) {
    const bigger = Buffer.allocUnsafeSlow(Math.max(out.length * 2, pos + size));
    out.copy(bigger, 0, 0, pos);
    out = bigger;
  }
  return pos;
}

/** Copies src[start, end) to `out` at `at`: short ranges byte by byte (Buffer.copy has a fixed cost per call). */
function copy(src: Buffer, start: number, end: number, at: number): number {
  if (end - start < 64) {
    let p = at;
    for (let i = start; i < end; i++) out[p++] = src[i]!;
    return p;
  }
  return at + src.copy(out, at, start, end);
}

function samplesOf(samples: { timestamps: number[]; values: number[] }): { timestamps: readonly number[]; values: readonly number[] } {
  const { timestamps, values } = samples;
  let inOrder = true;
  for (let i = 1; i < timestamps.length && inOrder; i++) inOrder = timestamps[i - 1]! < timestamps[i]!;
  if (inOrder) return samples;
  const sorted = ordered(timestamps, values);
  return { timestamps: sorted.map((s) => s.timestampMs), values: sorted.map((s) => s.value) };
}

function labelSize(name: string, value: string): number {
  const n = utf8Length(name);
  const v = utf8Length(value);
  const inner = 2 + varintSize(n) + n + varintSize(v) + v;
  return 1 + varintSize(inner) + inner;
}

/** Writes a Label field into `scratch` at `at` (room made by the caller). */
function writeLabel(name: string, value: string, at: number): number {
  const n = utf8Length(name);
  const v = utf8Length(value);
  let pos = at;
  scratch[pos++] = TAG_LABEL;
  pos = writeVarint(scratch, pos, 2 + varintSize(n) + n + varintSize(v) + v);
  scratch[pos++] = TAG_NAME;
  pos = writeVarint(scratch, pos, n);
  pos = writeString(name, n, pos);
  scratch[pos++] = TAG_VALUE;
  pos = writeVarint(scratch, pos, v);
  return writeString(value, v, pos);
}

/** ASCII (nearly every label) byte by byte; anything else through Buffer.write. */
function writeString(text: string, bytes: number, at: number): number {
  if (bytes === text.length) {
    for (let i = 0; i < bytes; i++) scratch[at + i] = text.charCodeAt(i);
    return at + bytes;
  }
  return at + scratch.write(text, at, 'utf8');
}

function utf8Length(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text);
  return text.length;
}

/** Varints of non-negative integers up to 2^53 (a millisecond timestamp needs 6 bytes). */
function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v >= 128; v = Math.floor(v / 128)) size++;
  return size;
}

function writeVarint(buf: Buffer, at: number, value: number): number {
  let pos = at;
  let v = value;
  while (v >= 128) {
    buf[pos++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}
