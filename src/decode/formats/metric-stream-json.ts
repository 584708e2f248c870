import { lengthPrefix } from '../length-prefixed.ts';
import { appendMetricStreamRecord } from '../metric-stream.ts';
import { isJsonMetricRecord, jsonMetricRecordToFrames } from '../metric-stream-json.ts';
import type { MetricRecordFormat } from '../record-format.ts';

/** CloudWatch Metric Streams' JSON output: translated to 1.0 frames, then rewritten as those are. */
export const METRIC_STREAM_JSON: MetricRecordFormat<'json'> = {
  name: 'json',
  signal: 'metrics',
  description: 'CloudWatch Metric Streams JSON',
  detect: isJsonMetricRecord,
  decode(bytes, batch, ctx) {
    appendMetricStreamRecord(lengthPrefix(jsonMetricRecordToFrames(bytes)), batch, ctx);
  },
};
