import { lengthPrefixedFrames } from './length-prefixed.ts';

/** Records sent to the other signal's route: recognised so the answer can say where they belong. */
export const METRICS_ON_LOGS_ROUTE =
  'this is a CloudWatch metric stream record; send it to /firehose/metrics (or choose a raw ?format= for this stream to forward it as it is)';
export const METRICS_ON_TRACES_ROUTE = 'this is a CloudWatch metric stream record; send it to /firehose/metrics';
export const LOGS_ON_METRICS_ROUTE = 'this looks like CloudWatch Logs (a gzip-compressed subscription record); send it to /firehose/logs';

const HEAD_BYTES = 2048;
const LEN = 0x0a; // field 1, length-delimited
const head = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, HEAD_BYTES)).toString('latin1');

/**
 * A CloudWatch metric stream record in any output format: metric-stream JSON lines, or varint-framed
 * ExportMetricsServiceRequest messages (OpenTelemetry 1.0 and 0.7), checked two levels deep so that text
 * is not mistaken for frames.
 */
export function looksLikeMetricStreamRecord(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  if (bytes[0] === 0x7b) {
    const text = head(bytes);
    return text.includes('"metric_stream_name"') && text.includes('"metric_name"');
  }
  try {
    let frames = 0;
    for (const { start, end } of lengthPrefixedFrames(bytes)) {
      if (end - start < 2 || bytes[start] !== LEN) return false;
      // resource_metrics: a varint length that fits, then a ResourceMetrics field (resource, scope metrics or schema URL).
      let len = 0;
      let pos = start + 1;
      for (let shift = 0; pos < end && shift < 35; shift += 7) {
        const b = bytes[pos++]!;
        len += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) break;
      }
      if (pos + len > end || len === 0) return false;
      const first = bytes[pos];
      if (first !== 0x0a && first !== 0x12 && first !== 0x1a) return false;
      frames++;
    }
    return frames > 0;
  } catch {
    return false;
  }
}

/** CloudWatch Logs subscription data: gzip (as CloudWatch writes it), or its JSON once un-gzipped. */
export function looksLikeLogsRecord(bytes: Uint8Array): boolean {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return true;
  if (bytes[0] !== 0x7b) return false;
  const text = head(bytes);
  return text.includes('"messageType"') && text.includes('"logGroup"');
}
