import { appendMetricStreamRecord } from '../metric-stream.ts';
import { isJsonMetricRecord } from '../metric-stream-json.ts';
import { isOpenTelemetry07Record } from '../metric-stream-v07.ts';
import type { MetricRecordFormat } from '../record-format.ts';
import { RecordError } from '../record-error.ts';

/** CloudWatch Metric Streams' OpenTelemetry 1.0 output: varint-framed ExportMetricsServiceRequests, rewritten in place. */
export const OPENTELEMETRY_1: MetricRecordFormat<'opentelemetry1.0'> = {
  name: 'opentelemetry1.0',
  signal: 'metrics',
  description: 'CloudWatch Metric Streams OpenTelemetry 1.0',
  screen(bytes) {
    if (isJsonMetricRecord(bytes)) throw new RecordError('format', 'record is metric-stream JSON, but this route was told ?format=opentelemetry1.0');
    if (isOpenTelemetry07Record(bytes))
      throw new RecordError('format', 'record is OpenTelemetry 0.7.0 (data point labels), but this route was told ?format=opentelemetry1.0');
  },
  decode: appendMetricStreamRecord,
};
