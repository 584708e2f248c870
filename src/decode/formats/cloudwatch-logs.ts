import { cloudWatchLogGroups, looksLikeSubscriptionMessage, parseCloudWatchLogsJson } from '../cloudwatch-logs.ts';
import { lengthPrefix } from '../length-prefixed.ts';
import { LogMetricAggregator, collectLogMetrics } from '../log-metrics.ts';
import { appendMetricStreamRecord } from '../metric-stream.ts';
import type { LogRecordFormat } from '../record-format.ts';
import { divertSpanMessages } from './aws-spans.ts';

/**
 * CloudWatch Logs subscription records (the JSON of a gzipped subscription message). CloudTrail is not a
 * format of its own: its events arrive inside these records and are recognised per log event (cloudtrail.ts).
 * Messages of span log groups, or whose events are spans, go to the traces batch (formats/aws-spans.ts).
 */
export const CLOUDWATCH_LOGS: LogRecordFormat<'cloudwatch-logs'> = {
  name: 'cloudwatch-logs',
  signal: 'logs',
  description: 'CloudWatch Logs subscription',
  detect: looksLikeSubscriptionMessage,
  raw: false,
  decode(plain, ctx) {
    const messages = divertSpanMessages(parseCloudWatchLogsJson(plain), ctx);
    if (ctx.derived && ctx.logs.metrics.size > 0) {
      const metrics = new LogMetricAggregator();
      collectLogMetrics(messages, ctx.region, ctx.logs.metrics, metrics);
      if (metrics.size > 0) appendMetricStreamRecord(lengthPrefix(metrics.frames()), ctx.derived, ctx);
    }
    return cloudWatchLogGroups(messages, ctx);
  },
};
