import type { SpanGroup } from '../otlp/spans.ts';
import { looksLikeSubscriptionMessage, parseCloudWatchLogsJson } from './cloudwatch-logs.ts';
import type { CloudWatchLogsMessage } from './cloudwatch-logs-message.ts';
import { RecordError } from './record-error.ts';
import { type SpanContext, SpanGrouper } from './span-grouper.ts';

export { type SpanContext, SpanGrouper } from './span-grouper.ts';

/** How far into a text the markers of a span are looked for. */
const HEAD = 1024;

/**
 * True when a text (a log event, a raw record's first line) is a span: a JSON object naming `traceId` and `spanId`
 * near its start and a `startTimeUnixNano` (a log line that carries its trace context has the ids but no span
 * times), or ADOT's `AWS-OTEL-TRACE-V1` format.
 */
export function looksLikeSpan(text: string): boolean {
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 0x20) i++;
  if (text.charCodeAt(i) !== 0x7b) return false;
  const head = text.length > i + HEAD ? text.slice(i, i + HEAD) : text;
  return (head.includes('"traceId"') && head.includes('"spanId"') && text.includes('"startTimeUnixNano"')) || head.includes('AWS-OTEL-TRACE-V1');
}

/** A record of spans: a subscription message from aws/spans (its head names the group), or span JSON itself. */
export function looksLikeSpanRecord(plain: Buffer): boolean {
  if (looksLikeSubscriptionMessage(plain)) return /"logGroup"\s*:\s*"aws\/spans"/.test(plain.toString('latin1', 0, Math.min(plain.length, 512)));
  const firstLine = plain.indexOf(0x0a);
  return looksLikeSpan(plain.toString('latin1', 0, Math.min(firstLine < 0 ? plain.length : firstLine, 64 * 1024)));
}

/**
 * Which messages of a record hold spans: `strict` those of span log groups (FIRETAP_SPAN_LOG_GROUPS), where a span
 * that cannot be read fails the record; `byShape` those of other groups whose first event is a span, which stay
 * logs unless every event reads as a span.
 */
export function spanMessages(messages: readonly CloudWatchLogsMessage[], isSpanGroup: (name: string) => boolean) {
  const strict: CloudWatchLogsMessage[] = [];
  const byShape: CloudWatchLogsMessage[] = [];
  for (const m of messages) {
    if (m.messageType !== 'DATA_MESSAGE') continue;
    if (isSpanGroup(m.logGroup)) strict.push(m);
    else if (m.logEvents[0] !== undefined && looksLikeSpan(m.logEvents[0].message)) byShape.push(m);
  }
  return { strict, byShape };
}

/** Adds every event of span messages (each event one span) to the grouper. */
export function addSpanMessages(messages: readonly CloudWatchLogsMessage[], grouper: SpanGrouper): void {
  for (const m of messages) {
    if (m.messageType !== 'DATA_MESSAGE') continue;
    const events = m.logEvents;
    for (let i = 0; i < events.length; i++) {
      try {
        grouper.addText(events[i]!.message, m.owner, SPAN);
      } catch (err) {
        throw named(err, `span (logEvents[${i}] of ${m.logGroup})`);
      }
    }
  }
}

/** What a span is called while it is read; an error then names it in full (not built for every span). */
const SPAN = 'span';

function named(err: unknown, where: string): unknown {
  return err instanceof RecordError && err.message.startsWith(SPAN) ? new RecordError(err.reason, where + err.message.slice(SPAN.length)) : err;
}

/**
 * The spans of one record (gunzipped once) of any log group: a CloudWatch Logs subscription message whose
 * events are spans, or span JSON itself, one span per line. A span that cannot be read fails the record.
 */
export function spanRecordGroups(plain: Buffer, ctx: SpanContext): SpanGroup[] {
  const grouper = new SpanGrouper(ctx);
  if (looksLikeSubscriptionMessage(plain)) addSpanMessages(parseCloudWatchLogsJson(plain), grouper);
  else {
    const lines = plain.toString('utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.trim() === '') continue;
      try {
        grouper.addText(lines[i]!, undefined, SPAN);
      } catch (err) {
        throw named(err, `span (line ${i + 1})`);
      }
    }
    if (grouper.count === 0)
      throw new RecordError('format', 'record holds no span (expected span JSON, one per line, or a CloudWatch Logs subscription message of spans)');
  }
  return grouper.groups();
}
