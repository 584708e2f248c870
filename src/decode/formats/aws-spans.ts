import { SpanGrouper, addSpanMessages, isSpanMessage, looksLikeSpanRecord, spanRecordGroups } from '../aws-spans.ts';
import type { LogRecordContext, LogRecordFormat } from '../record-format.ts';
import { appendSpanGroups } from '../../otlp/spans.ts';
import type { CloudWatchLogsMessage } from '../cloudwatch-logs-message.ts';

/**
 * CloudWatch Transaction Search spans (`aws/spans`, or span JSON itself) on the logs route: read as spans and
 * written to the request's traces batch, for the traces exporter; they give no log records.
 */
export const AWS_SPANS: LogRecordFormat<'aws-spans'> = {
  name: 'aws-spans',
  signal: 'logs',
  description: 'Transaction Search span (aws/spans)',
  detect: looksLikeSpanRecord,
  raw: false,
  decode(plain, ctx) {
    const groups = spanRecordGroups(plain, ctx);
    if (ctx.spans) appendSpanGroups(groups, ctx.spans);
    return [];
  },
};

/**
 * Takes the messages of span log groups (FIRETAP_SPAN_LOG_GROUPS) or whose events are spans out of a record's
 * messages and writes their spans to the traces batch, all read first (a bad span fails the record unwritten).
 * Returns the other messages.
 */
export function divertSpanMessages(messages: CloudWatchLogsMessage[], ctx: LogRecordContext): CloudWatchLogsMessage[] {
  const spans = messages.filter((m) => isSpanMessage(m, ctx.logs.spanLogGroups.matches));
  if (spans.length === 0) return messages;
  const grouper = new SpanGrouper(ctx);
  addSpanMessages(spans, grouper);
  if (ctx.spans) appendSpanGroups(grouper.groups(), ctx.spans);
  return messages.filter((m) => !spans.includes(m));
}
