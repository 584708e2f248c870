import { lengthPrefix } from '../length-prefixed.ts';
import { appendMetricStreamRecord } from '../metric-stream.ts';
import { isOpenTelemetry07Record, openTelemetry07ToFrames } from '../metric-stream-v07.ts';
import type { MetricRecordFormat } from '../record-format.ts';

/** CloudWatch Metric Streams' OpenTelemetry 0.7.0 output: data point labels, translated to 1.0 frames. */
export const OPENTELEMETRY_0_7: MetricRecordFormat<'opentelemetry0.7'> = {
  name: 'opentelemetry0.7',
  signal: 'metrics',
  description: 'CloudWatch Metric Streams OpenTelemetry 0.7.0',
  detect: isOpenTelemetry07Record,
  decode(bytes, batch, ctx) {
    appendMetricStreamRecord(lengthPrefix(openTelemetry07ToFrames(bytes)), batch, ctx);
  },
};
