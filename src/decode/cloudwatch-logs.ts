import type { OtlpBatch } from '../otlp/batch.ts';
import { LOG_ATTRIBUTE_FIELDS, appendLogGroups, type Continuation, type LogGroup } from '../otlp/log-records.ts';
import { ResourceBuilder } from '../otlp/resource.ts';
import { encodeStringArrayKeyValue, type EncodedAttribute } from '../otlp/wire.ts';
import type { Enrichment } from '../enrich/enrichment.ts';
import type { EnrichmentStats } from '../enrich/enrichment-stats.ts';
import { logResourceAttributes } from '../enrich/log-groups.ts';
import { extractCloudTrail } from './cloudtrail.ts';
import { parseFlowLogLine, type FlowLogFormat } from './vpc-flow-logs.ts';
import { gunzipRecord, isGzip } from './gzip.ts';
import type { MemoryShare } from '../memory/memory-budget.ts';
import { jsonLines } from './json-lines.ts';
import type { LogOptions } from './log-options.ts';
import { RecordError } from './record-error.ts';
import { WHOLE_RECORD_BYTES, parseInPieces } from './cloudwatch-logs-pieces.ts';
import { eventIdentity, type CloudWatchLogEvent, type CloudWatchLogsMessage } from './cloudwatch-logs-message.ts';

export type { Continuation } from '../otlp/log-records.ts';

export interface CloudWatchLogsContext {
  /** Added to every Resource unless an attribute of the same key is already there. */
  readonly resourceAttributes: readonly EncodedAttribute[];
  /** The region of the delivery stream (from X-Amz-Firehose-Source-Arn), used when the data has none. */
  readonly region: string | undefined;
  /** When the request arrived, for observed_time_unix_nano. */
  readonly observedAtMs: number;
  /** The batch is handed to the exporter once it reaches this size, even in the middle of a record. */
  readonly maxBatchBytes: number;
  readonly maxRecordBytes: number;
  /** Resource tags: log groups and streams that name a known resource get its attributes. */
  readonly enrichment?: Enrichment | undefined;
  readonly stats?: EnrichmentStats | undefined;
  /** Names from log group / stream patterns, CloudTrail extraction; none of it when absent. */
  readonly logs?: LogOptions | undefined;
}

/**
 * Undoes a record's own gzip exactly once when its bytes start with the gzip magic (records that
 * Firehose already decompressed, or that were never compressed, are returned as they are), refusing
 * a second layer and anything larger than maxRecordBytes; the inflated bytes are taken from `memory` (the
 * request's share of the memory budget for records) when given.
 */
export async function unwrapRecord(record: Buffer, maxRecordBytes: number, memory?: MemoryShare): Promise<Buffer> {
  const bytes = isGzip(record) ? await gunzipRecord(record, maxRecordBytes, memory) : record;
  if (bytes !== record && isGzip(bytes)) {
    // CloudWatch Logs gzips once; a second layer means something upstream compressed again.
    throw new RecordError(
      'format',
      'record is gzip inside gzip; firetap gunzips a record exactly once (is Firehose compression set on an already compressed source?)',
    );
  }
  if (bytes.length > maxRecordBytes) {
    throw new RecordError('too_large', `record is ${bytes.length} bytes, more than ${maxRecordBytes} (FIRETAP_MAX_RECORD_BYTES)`);
  }
  return bytes;
}

/**
 * Decodes one CloudWatch Logs subscription record: gunzip exactly once (see unwrapRecord), then JSON.
 * Throws RecordError for anything that is not a subscription message.
 */
export async function parseCloudWatchLogsRecord(record: Buffer, maxRecordBytes: number): Promise<CloudWatchLogsMessage[]> {
  return parseCloudWatchLogsJson(await unwrapRecord(record, maxRecordBytes));
}

/**
 * True when (uncompressed) record bytes look like a subscription message: a JSON object naming its
 * messageType or logEvents near the start, as CloudWatch Logs writes it. Used to tell subscription
 * records from raw ones; a record that passes is then parsed strictly.
 */
export function looksLikeSubscriptionMessage(bytes: Buffer): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] !== 0x7b) return false;
  const head = bytes.toString('latin1', i, Math.min(bytes.length, i + 512));
  return head.includes('"messageType"') || head.includes('"logEvents"');
}

/** Parses the uncompressed bytes of a subscription record (one message, or older set-ups' one per line). */
export function parseCloudWatchLogsJson(bytes: Buffer): CloudWatchLogsMessage[] {
  const pieces = bytes.length > WHOLE_RECORD_BYTES ? parseInPieces(bytes) : undefined;
  if (pieces) return [validateMessage(pieces)];
  const text = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Older CloudWatch Logs → Firehose set-ups delivered several messages per record, one per line.
    if (text.startsWith('{') && text.includes('\n')) return parseLines(text);
    throw new RecordError('json', `record is not JSON: ${(err as Error).message}`);
  }
  return [validateMessage(parsed)];
}

function parseLines(text: string): CloudWatchLogsMessage[] {
  const out: CloudWatchLogsMessage[] = [];
  for (const { line, value } of jsonLines(text, 'record')) {
    try {
      out.push(validateMessage(value));
    } catch (err) {
      throw new RecordError((err as RecordError).reason, `record line ${line}: ${(err as Error).message}`);
    }
  }
  return out;
}

function validateMessage(value: unknown): CloudWatchLogsMessage {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RecordError('format', 'record is not a CloudWatch Logs subscription message (expected a JSON object)');
  }
  const m = value as Record<string, unknown>;
  if (m.messageType === 'CONTROL_MESSAGE') return m as unknown as CloudWatchLogsMessage;
  if (m.messageType !== 'DATA_MESSAGE') {
    const got = m.messageType === undefined ? 'no messageType' : `messageType ${JSON.stringify(m.messageType).slice(0, 40)}`;
    throw new RecordError('format', `record is not a CloudWatch Logs subscription message (${got}; expected DATA_MESSAGE or CONTROL_MESSAGE)`);
  }
  for (const field of ['owner', 'logGroup', 'logStream'] as const) {
    if (typeof m[field] !== 'string') throw new RecordError('format', `CloudWatch Logs message has no string "${field}"`);
  }
  if (!Array.isArray(m.logEvents)) throw new RecordError('format', 'CloudWatch Logs message has no "logEvents" array');
  const events = m.logEvents as unknown[];
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object') throw new RecordError('format', `logEvents[${i}] is not an object`);
    if (typeof e.message !== 'string') throw new RecordError('format', `logEvents[${i}].message is not a string`);
    if (typeof e.timestamp !== 'number' || !Number.isFinite(e.timestamp)) throw new RecordError('format', `logEvents[${i}].timestamp is not a number`);
    if (e.id !== undefined && typeof e.id !== 'string') throw new RecordError('format', `logEvents[${i}].id is not a string`);
  }
  return m as unknown as CloudWatchLogsMessage;
}

/** Groups a message's events by the account and region they belong to (extractedFields may differ per event). */
function groupEvents(
  m: CloudWatchLogsMessage,
  region: string | undefined,
): Array<{ account: string; region: string | undefined; events: CloudWatchLogEvent[] }> {
  // Only extractedFields name another account or region: without them, every event is the message's own.
  if (m.logEvents.length === 0) return [];
  if (!m.logEvents.some((e) => e.extractedFields !== undefined)) return [{ account: m.owner, region, events: m.logEvents }];
  const groups = new Map<string, { account: string; region: string | undefined; events: CloudWatchLogEvent[] }>();
  for (const e of m.logEvents) {
    const [account, r] = eventIdentity(m, e, region);
    const key = `${account}\u0000${r ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { account, region: r, events: [] }));
    g.events.push(e);
  }
  return [...groups.values()];
}

function encodeResource(m: CloudWatchLogsMessage, account: string, region: string | undefined, ctx: CloudWatchLogsContext): Uint8Array {
  const r = new ResourceBuilder().string('cloud.provider', 'aws').string('cloud.account.id', account);
  if (region) r.string('cloud.region', region);
  r.add('aws.log.group.names', encodeStringArrayKeyValue('aws.log.group.names', [m.logGroup]));
  r.add('aws.log.stream.names', encodeStringArrayKeyValue('aws.log.stream.names', [m.logStream]));
  // The data's own region, or none: never one from the added attributes.
  r.reserve('cloud.region');
  const named = ctx.logs?.names.match(m.logGroup, m.logStream);
  if (named) for (const [key, value] of named) r.string(key, value);
  const scope = region !== undefined ? ctx.enrichment?.scope(account, region) : undefined;
  if (scope) {
    const found = logResourceAttributes(scope, m.logGroup, m.logStream);
    if (found) {
      for (const [key, value] of Object.entries(found.attributes)) r.string(key, value);
      ctx.stats?.hit('AWS/Logs');
    } else {
      ctx.stats?.miss('AWS/Logs');
    }
  }
  for (const a of ctx.resourceAttributes) r.add(a.key, a.encoded);
  return r.finish();
}

/**
 * VPC flow logs published to CloudWatch Logs write one log stream per network interface (`eni-…`, with a
 * `-all`, `-accept` or `-reject` suffix): those events are parsed as flow log lines, in the configured
 * format, exactly as flow logs sent to Firehose directly are. A line that does not fit stays as it is.
 */
function extractFlowLogs(m: CloudWatchLogsMessage, format: FlowLogFormat): void {
  if (!m.logStream.startsWith('eni-')) return;
  for (const e of m.logEvents) {
    const parsed = parseFlowLogLine(e.message, format);
    if (!parsed) continue;
    (e as { [LOG_ATTRIBUTE_FIELDS]?: Uint8Array | undefined })[LOG_ATTRIBUTE_FIELDS] = parsed.fields;
  }
}

/**
 * The log groups of parsed messages, one per (account, region, log group, log stream); CONTROL_MESSAGEs
 * give none. Events that are CloudTrail records get their fields as attributes.
 */
export function cloudWatchLogGroups(messages: readonly CloudWatchLogsMessage[], ctx: CloudWatchLogsContext): LogGroup[] {
  const out: LogGroup[] = [];
  for (const m of messages) {
    if (m.messageType !== 'DATA_MESSAGE') continue;
    if (ctx.logs) {
      extractCloudTrail(m, ctx.logs.cloudTrail);
      extractFlowLogs(m, ctx.logs.vpcFlowLogFormat);
    }
    for (const g of groupEvents(m, ctx.region)) out.push({ resource: encodeResource(m, g.account, g.region, ctx), events: g.events });
  }
  return out;
}

/** Writes the log events of parsed messages into the batch (see appendLogGroups). */
export function appendCloudWatchLogs(messages: readonly CloudWatchLogsMessage[], batch: OtlpBatch, ctx: CloudWatchLogsContext): Continuation | undefined {
  return appendLogGroups(cloudWatchLogGroups(messages, ctx), batch, ctx);
}
