import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Signal } from '../config/schema.ts';
import { looksLikeSpanRecord } from '../decode/aws-spans.ts';
import { isGzip } from '../decode/gzip.ts';
import { lengthPrefixedFrames } from '../decode/length-prefixed.ts';

const gunzipAsync = promisify(gunzip);

/** One backed-up record, ready to be sent again, and the route it belongs to. */
export interface ReplayRecord {
  readonly signal: Signal;
  readonly data: Buffer;
}

/** Largest object firetap inflates (Firehose writes objects of at most 128 MiB before compression). */
const MAX_OBJECT_BYTES = 1024 * 1024 * 1024;
/** Metric-stream frames of an all-data backup are sent again in records of about this size. */
const RECORD_BYTES = 1024 * 1024;

export class ReplayObjectError extends Error {
  override name = 'ReplayObjectError';
}

/**
 * A record's route, from what it holds: metric-stream frames or JSON lines, span JSON, else logs (subscription
 * records of aws/spans go there too: the logs route sends their spans to the traces exporter).
 */
function signalOf(data: Buffer): Signal {
  if (isGzip(data)) return 'logs';
  if (data[0] !== 0x7b) return 'metrics';
  const head = data.subarray(0, 512);
  if (head.includes('"metric_stream_name"')) return 'metrics';
  return looksLikeSpanRecord(data) && !head.includes('"messageType"') ? 'traces' : 'logs';
}

/**
 * The top-level JSON values of a text holding several, back to back or one per line — what an S3 object of
 * records that carry no delimiter looks like (`{…}{…}`). Returns the byte ranges of each value.
 */
export function splitJsonValues(bytes: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
      continue;
    }
    if (b === 0x22) inString = true;
    else if (b === 0x7b || b === 0x5b) {
      if (depth === 0) start = i;
      depth++;
    } else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth < 0) throw new ReplayObjectError(`unbalanced JSON at byte ${i}`);
      if (depth === 0) out.push([start, i + 1]);
    } else if (depth === 0 && b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) {
      throw new ReplayObjectError(`byte ${i} is outside any JSON object`);
    }
  }
  if (depth !== 0 || inString) throw new ReplayObjectError('the object ends inside a JSON value (truncated?)');
  return out;
}

/** Cuts a run of varint-length-prefixed frames into records of whole frames, about RECORD_BYTES each. */
function frameRecords(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let recordStart = 0;
  let pos = 0;
  try {
    for (const frame of lengthPrefixedFrames(bytes)) {
      pos = frame.end;
      if (pos - recordStart >= RECORD_BYTES) {
        out.push(bytes.subarray(recordStart, pos));
        recordStart = pos;
      }
    }
  } catch (err) {
    throw new ReplayObjectError(`${(err as Error).message} (truncated object?)`);
  }
  if (pos > recordStart) out.push(bytes.subarray(recordStart, pos));
  return out;
}

/**
 * The records of one S3 object (or local file) that Firehose wrote:
 * - a **failed-data backup** (JSON lines with `rawData`, base64, and the error that sent it there): each line's
 *   rawData is a record;
 * - an **all-data backup** or a Firehose → S3 delivery, records as the source wrote them with no delimiter:
 *   CloudWatch Logs messages (JSON, after the object's gzip is undone), metric-stream JSON lines, or
 *   metric-stream OpenTelemetry frames (varint-length-prefixed, cut into records of whole frames).
 * The object's own gzip (Firehose's S3 compression) is undone first. `signal` overrides the detected route.
 */
export async function recordsOfObject(raw: Buffer, signal?: Signal): Promise<ReplayRecord[]> {
  let bytes = raw;
  if (isGzip(bytes)) {
    try {
      bytes = await gunzipAsync(bytes, { maxOutputLength: MAX_OBJECT_BYTES });
    } catch (err) {
      throw new ReplayObjectError(`gzip: ${(err as Error).message}`);
    }
  }
  let first = 0;
  while (first < bytes.length && (bytes[first] === 0x20 || bytes[first] === 0x0a || bytes[first] === 0x0d || bytes[first] === 0x09)) first++;
  if (first === bytes.length) return [];
  if (bytes[first] !== 0x7b) return frameRecords(bytes).map((data) => ({ signal: signal ?? 'metrics', data }));

  let values: Array<[number, number]>;
  try {
    values = splitJsonValues(bytes);
  } catch (err) {
    // A metric-stream object whose first frame is 123 bytes long starts with '{' too.
    try {
      return frameRecords(bytes).map((data) => ({ signal: signal ?? 'metrics', data }));
    } catch {
      throw err;
    }
  }
  const head = bytes.subarray(values[0]![0], values[0]![1]);
  if (head.includes('"rawData"')) {
    return values.map(([start, end], i) => {
      let line: { rawData?: unknown };
      try {
        line = JSON.parse(bytes.toString('utf8', start, end));
      } catch (err) {
        throw new ReplayObjectError(`backup line ${i + 1} is not JSON: ${(err as Error).message}`);
      }
      if (typeof line.rawData !== 'string') throw new ReplayObjectError(`backup line ${i + 1} has no string "rawData"`);
      const data = Buffer.from(line.rawData, 'base64');
      return { signal: signal ?? signalOf(data), data };
    });
  }
  return values.map(([start, end]) => {
    const data = bytes.subarray(start, end);
    return { signal: signal ?? signalOf(data), data };
  });
}
