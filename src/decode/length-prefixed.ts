import { Writer } from '../otlp/wire.ts';
import { RecordError } from './record-error.ts';

/**
 * Splits a CloudWatch Metric Streams "OpenTelemetry 1.0" record into its frames: each is an
 * unsigned varint32 length followed by that many bytes. Every length is read at the current
 * position and checked against the bytes left before the frame is sliced.
 */
export function* lengthPrefixedFrames(record: Uint8Array): Generator<{ start: number; end: number }> {
  let pos = 0;
  const total = record.length;
  while (pos < total) {
    const prefixAt = pos;
    let len = 0;
    let shift = 0;
    for (;;) {
      if (pos >= total) throw new RecordError('protobuf', `frame length prefix at byte ${prefixAt} is cut off by the end of the record`);
      const b = record[pos++]!;
      if (shift === 28 && b > 0x0f) throw new RecordError('protobuf', `frame length prefix at byte ${prefixAt} does not fit in 32 bits`);
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
    }
    const left = total - pos;
    if (len > left) {
      throw new RecordError('protobuf', `frame at byte ${prefixAt} declares ${len} bytes but only ${left} are left in the record`);
    }
    yield { start: pos, end: pos + len };
    pos += len;
  }
}

/** The inverse: frames joined, each preceded by its varint32 length. */
export function lengthPrefix(frames: readonly Uint8Array[]): Buffer {
  const w = Writer.create();
  for (const f of frames) w.bytes(f);
  return Buffer.from(w.finish());
}
