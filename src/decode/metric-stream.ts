import type { OtlpBatch } from '../otlp/batch.ts';
import { Reader, WIRE_LEN, WireError, tag } from '../otlp/wire-format.ts';
import { readLenBounds, WireCursor } from '../otlp/wire-read.ts';
import { openField } from '../otlp/wire-write.ts';
import { lengthPrefixedFrames } from './length-prefixed.ts';
import type { MetricStreamContext } from './metric-stream/context.ts';
import { rewriteResourceMetricsGrouped } from './metric-stream/grouping.ts';
import { closeContainer, containerGuess, rewriteResourceMetrics } from './metric-stream/walkers.ts';
import { RecordError } from './record-error.ts';

export type { MetricStreamContext } from './metric-stream/context.ts';
export { MAX_ATTRIBUTES_PER_POINT } from './metric-stream/context.ts';

const LEN1 = tag(1, WIRE_LEN);
/** CloudWatch sends a few frames per record; far more is not CloudWatch. */
export const MAX_FRAMES_PER_RECORD = 65_536;

/**
 * Appends one CloudWatch Metric Streams "OpenTelemetry 1.0" record to an OTLP metrics batch.
 *
 * Every frame's ResourceMetrics are copied through byte for byte except for two rewrites: the
 * Resource gains the request's extra attributes, and each data point's `Dimensions` kvlist attribute
 * is replaced by one attribute per dimension (backends such as Prometheus cannot query a kvlist).
 * A dimension whose name is already an attribute (`Namespace`, `MetricName`) is written as
 * `Dimensions.<name>`. A bad record throws RecordError and leaves the batch as it was.
 */
export function appendMetricStreamRecord(record: Uint8Array, batch: OtlpBatch, ctx: MetricStreamContext): void {
  const mark = batch.mark();
  try {
    // A Buffer, so that protobufjs reads it with its Buffer reader (native string decoding).
    const r = Reader.create(Buffer.isBuffer(record) ? record : Buffer.from(record.buffer, record.byteOffset, record.byteLength));
    const c = new WireCursor();
    let frameIndex = 0;
    for (const frame of lengthPrefixedFrames(record)) {
      if (frameIndex >= MAX_FRAMES_PER_RECORD) throw new RecordError('too_large', `record has more than ${MAX_FRAMES_PER_RECORD} frames`);
      try {
        rewriteExportRequest(r, frame.start, frame.end, batch, ctx, c);
      } catch (err) {
        if (err instanceof RecordError) throw err;
        throw new RecordError(
          'protobuf',
          `frame ${frameIndex} (bytes ${frame.start}-${frame.end}) is not an OTLP ExportMetricsServiceRequest: ${(err as Error).message}`,
        );
      }
      frameIndex++;
    }
  } catch (err) {
    batch.rollback(mark);
    throw err;
  }
}

function rewriteExportRequest(r: Reader, start: number, end: number, batch: OtlpBatch, ctx: MetricStreamContext, c: WireCursor): void {
  const w = batch.writer;
  r.pos = start;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === LEN1) {
      const stop = readLenBounds(r, end);
      if (ctx.attributesOn === 'resource' && ctx.enrichment) {
        batch.items += rewriteResourceMetricsGrouped(r, stop, w, ctx, c);
      } else {
        const input = stop - r.pos;
        const expected = containerGuess(input);
        const lenPos = openField(w, LEN1, expected);
        batch.items += rewriteResourceMetrics(r, stop, w, ctx, c);
        closeContainer(w, lenPos, expected, input);
      }
    } else {
      // ExportMetricsServiceRequest has no other field; anything else is not one.
      throw new WireError(`unexpected field ${t >>> 3} (wire type ${t & 7}) at byte ${r.pos - 1}`);
    }
  }
}
