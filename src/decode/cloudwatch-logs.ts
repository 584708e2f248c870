import type { OtlpBatch } from '../otlp/batch.ts';
import {
  Writer,
  WIRE_LEN,
  WIRE_FIXED64,
  encodeStringArrayKeyValue,
  encodeStringKeyValue,
  tag,
  writeFixed64Nanos,
  type EncodedAttribute,
} from '../otlp/wire.ts';
import { SCOPE_NAME, VERSION } from '../version.ts';
import type { Enrichment, EnrichmentStats } from '../enrich/enrichment.ts';
import { logResourceAttributes } from '../enrich/log-groups.ts';
import { gunzipRecord, isGzip } from './gzip.ts';
import { jsonLines } from './json-lines.ts';
import { RecordError } from './record-error.ts';

/** One log event of a CloudWatch Logs subscription DATA_MESSAGE. */
export interface CloudWatchLogEvent {
  id: string;
  timestamp: number;
  message: string;
  extractedFields?: Record<string, unknown>;
}

/** The JSON CloudWatch Logs writes to a subscription destination, one per Firehose record. */
export interface CloudWatchLogsMessage {
  messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE';
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters?: string[];
  logEvents: CloudWatchLogEvent[];
}

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
}

/** Continues writing a record after the batch was flushed; returns another one if it fills up again. */
export type Continuation = () => Continuation | undefined;

/**
 * Decodes one CloudWatch Logs subscription record: gunzip exactly once when the bytes start with the
 * gzip magic (records that Firehose already decompressed arrive as plain JSON), then JSON. Throws
 * RecordError for anything that is not a subscription message.
 */
export async function parseCloudWatchLogsRecord(record: Buffer, maxRecordBytes: number): Promise<CloudWatchLogsMessage[]> {
  const bytes = isGzip(record) ? await gunzipRecord(record, maxRecordBytes) : record;
  if (bytes !== record && isGzip(bytes)) {
    // CloudWatch Logs gzips once; a second layer means something upstream compressed again.
    throw new RecordError('format', 'record is gzip inside gzip; firetap gunzips a record exactly once (is Firehose compression set on an already compressed source?)');
  }
  if (bytes.length > maxRecordBytes) {
    throw new RecordError('too_large', `record is ${bytes.length} bytes, more than ${maxRecordBytes} (FIRETAP_MAX_RECORD_BYTES)`);
  }
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

const RESOURCE_KEYS = new Set(['cloud.provider', 'cloud.account.id', 'cloud.region', 'aws.log.group.names', 'aws.log.stream.names']);
const SCOPE = (() => {
  // InstrumentationScope { name = 1; version = 2 }, encoded once.
  const w = Writer.create();
  w.uint32(tag(1, WIRE_LEN)).string(SCOPE_NAME).uint32(tag(2, WIRE_LEN)).string(VERSION);
  return w.finish();
})();

/** Groups a message's events by the account and region they belong to (extractedFields may differ per event). */
function groupEvents(m: CloudWatchLogsMessage, region: string | undefined): Array<{ account: string; region: string | undefined; events: CloudWatchLogEvent[] }> {
  const groups = new Map<string, { account: string; region: string | undefined; events: CloudWatchLogEvent[] }>();
  for (const e of m.logEvents) {
    const f = e.extractedFields;
    const account = typeof f?.['@aws.account'] === 'string' ? (f['@aws.account'] as string) : m.owner;
    const r = typeof f?.['@aws.region'] === 'string' ? (f['@aws.region'] as string) : region;
    const key = `${account}\u0000${r ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { account, region: r, events: [] }));
    g.events.push(e);
  }
  return [...groups.values()];
}

function encodeResource(m: CloudWatchLogsMessage, account: string, region: string | undefined, ctx: CloudWatchLogsContext): Uint8Array {
  const w = Writer.create();
  const attr = (kv: Uint8Array) => w.uint32(tag(1, WIRE_LEN)).bytes(kv);
  attr(encodeStringKeyValue('cloud.provider', 'aws'));
  attr(encodeStringKeyValue('cloud.account.id', account));
  if (region) attr(encodeStringKeyValue('cloud.region', region));
  attr(encodeStringArrayKeyValue('aws.log.group.names', [m.logGroup]));
  attr(encodeStringArrayKeyValue('aws.log.stream.names', [m.logStream]));
  const written = new Set(RESOURCE_KEYS);
  const scope = region !== undefined ? ctx.enrichment?.scope(account, region) : undefined;
  if (scope) {
    const found = logResourceAttributes(scope, m.logGroup, m.logStream);
    if (found) {
      for (const [key, value] of Object.entries(found.attributes)) {
        if (written.has(key)) continue;
        written.add(key);
        attr(encodeStringKeyValue(key, value));
      }
      ctx.stats?.hit('AWS/Logs');
    } else {
      ctx.stats?.miss('AWS/Logs');
    }
  }
  for (const a of ctx.resourceAttributes) if (!written.has(a.key)) attr(a.encoded);
  return w.finish();
}

/**
 * Writes the log events of parsed messages into the batch, one ResourceLogs per (account, region,
 * log group, log stream). CONTROL_MESSAGEs write nothing. When the batch reaches maxBatchBytes
 * between two events, the open messages are closed and a continuation is returned that carries on
 * after the caller has flushed the batch.
 */
export function appendCloudWatchLogs(messages: readonly CloudWatchLogsMessage[], batch: OtlpBatch, ctx: CloudWatchLogsContext): Continuation | undefined {
  const work: Array<{ resource: Uint8Array; events: CloudWatchLogEvent[] }> = [];
  for (const m of messages) {
    if (m.messageType !== 'DATA_MESSAGE') continue;
    for (const g of groupEvents(m, ctx.region)) {
      work.push({ resource: encodeResource(m, g.account, g.region, ctx), events: g.events });
    }
  }
  return writeFrom(work, 0, 0, batch, ctx);
}

function writeFrom(
  work: Array<{ resource: Uint8Array; events: CloudWatchLogEvent[] }>,
  groupIndex: number,
  eventIndex: number,
  batch: OtlpBatch,
  ctx: CloudWatchLogsContext,
): Continuation | undefined {
  const w = batch.writer;
  for (let gi = groupIndex; gi < work.length; gi++) {
    const { resource, events } = work[gi]!;
    // ResourceLogs { resource = 1; scope_logs = 2 } → ScopeLogs { scope = 1; log_records = 2 }
    w.uint32(tag(1, WIRE_LEN)).fork();
    w.uint32(tag(1, WIRE_LEN)).bytes(resource);
    w.uint32(tag(2, WIRE_LEN)).fork();
    w.uint32(tag(1, WIRE_LEN)).bytes(SCOPE);
    for (let ei = gi === groupIndex ? eventIndex : 0; ei < events.length; ei++) {
      writeLogRecord(events[ei]!, ctx.observedAtMs, batch);
      const more = ei + 1 < events.length || gi + 1 < work.length;
      if (more && batch.bytes >= ctx.maxBatchBytes) {
        w.ldelim().ldelim();
        const [nextGroup, nextEvent] = ei + 1 < events.length ? [gi, ei + 1] : [gi + 1, 0];
        return () => writeFrom(work, nextGroup, nextEvent, batch, ctx);
      }
    }
    w.ldelim().ldelim();
  }
  return undefined;
}

const EVENT_ID = Buffer.from('log.record.uid');

/** LogRecord { time_unix_nano = 1; body = 5; attributes = 6; observed_time_unix_nano = 11 }. */
function writeLogRecord(e: CloudWatchLogEvent, observedAtMs: number, batch: OtlpBatch): void {
  const w = batch.writer;
  w.uint32(tag(2, WIRE_LEN)).fork();
  w.uint32(tag(1, WIRE_FIXED64));
  writeFixed64Nanos(w, e.timestamp);
  w.uint32(tag(5, WIRE_LEN)).fork().uint32(tag(1, WIRE_LEN)).string(e.message).ldelim();
  if (typeof e.id === 'string') {
    w.uint32(tag(6, WIRE_LEN)).fork();
    w.uint32(tag(1, WIRE_LEN)).bytes(EVENT_ID);
    w.uint32(tag(2, WIRE_LEN)).fork().uint32(tag(1, WIRE_LEN)).string(e.id).ldelim();
    w.ldelim();
  }
  w.uint32(tag(11, WIRE_FIXED64));
  writeFixed64Nanos(w, observedAtMs);
  w.ldelim();
  batch.items++;
}
