import { SpanGrouper, addSpanMessages, looksLikeSpanRecord, spanMessages, spanRecordGroups } from '../aws-spans.ts';
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
 * Takes the span messages out of a record's messages (see spanMessages) and writes their spans to the traces
 * batch, all read first: a bad span of a span log group fails the record unwritten; a message of another group
 * that does not read as spans throughout stays logs. Returns the messages that stay logs.
 */
export function divertSpanMessages(messages: CloudWatchLogsMessage[], ctx: LogRecordContext): CloudWatchLogsMessage[] {
  const { strict, byShape } = spanMessages(messages, ctx.logs.spanLogGroups.matches);
  if (strict.length === 0 && byShape.length === 0) return messages;
  const grouper = new SpanGrouper(ctx);
  addSpanMessages(strict, grouper);
  const diverted = new Set(strict);
  for (const m of byShape) if (grouper.tryMessage(m)) diverted.add(m);
  if (ctx.spans) appendSpanGroups(grouper.groups(), ctx.spans);
  return diverted.size === 0 ? messages : messages.filter((m) => !diverted.has(m));
}
