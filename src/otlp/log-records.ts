import type { OtlpBatch } from './batch.ts';
import { Writer, WIRE_FIXED64, WIRE_LEN, tag, varintSize, writeFixed64Nanos } from './wire.ts';
import { copyRange } from './wire-write.ts';
import { SCOPE_NAME, VERSION } from '../version.ts';

/**
 * Encoded KeyValues an extractor (CloudTrail, VPC flow logs, WAF …) attached to an event. A symbol, so
 * that no key of parsed JSON can ever stand in for it.
 */
export const LOG_ATTRIBUTES: unique symbol = Symbol('firetap.logAttributes');

/**
 * Attributes an extractor wrote already as LogRecord fields (`attributes = 6`: tag, length, KeyValue, one after the
 * other), copied into the record as they are: for the many short lines of VPC flow logs, one buffer a line.
 */
export const LOG_ATTRIBUTE_FIELDS: unique symbol = Symbol('firetap.logAttributeFields');

/**
 * What becomes one OTLP LogRecord. A CloudWatch Logs event is used exactly as JSON.parse made it
 * (`{id, timestamp, message}`); raw records are shaped the same way.
 */
export interface LogEvent {
  /** Milliseconds since the epoch, when the source says when it happened. */
  timestamp?: number | undefined;
  /** The body: text, or bytes when a raw record is not UTF-8. */
  message: string | Uint8Array;
  /** `log.record.uid`: CloudWatch Logs' event id. */
  id?: string | undefined;
  [LOG_ATTRIBUTES]?: Uint8Array[];
  [LOG_ATTRIBUTE_FIELDS]?: Uint8Array;
}

/** The events of one OTLP Resource (an encoded Resource message). */
export interface LogGroup {
  readonly resource: Uint8Array;
  readonly events: readonly LogEvent[];
}

/** Continues writing a record after the batch was flushed; returns another one if it fills up again. */
export type Continuation = () => Continuation | undefined;

export interface LogWriteContext {
  /** When the request arrived, for observed_time_unix_nano. */
  readonly observedAtMs: number;
  /** The batch is handed to the exporter once it reaches this size, even in the middle of a record. */
  readonly maxBatchBytes: number;
}

const SCOPE = (() => {
  // InstrumentationScope { name = 1; version = 2 }, encoded once.
  const w = Writer.create();
  w.uint32(tag(1, WIRE_LEN)).string(SCOPE_NAME).uint32(tag(2, WIRE_LEN)).string(VERSION);
  return w.finish();
})();

/**
 * Writes groups of log events into the batch, one ResourceLogs per group. When the batch reaches
 * maxBatchBytes between two events, the open messages are closed and a continuation is returned that
 * carries on after the caller has flushed the batch.
 */
export function appendLogGroups(groups: readonly LogGroup[], batch: OtlpBatch, ctx: LogWriteContext): Continuation | undefined {
  return writeFrom(groups, 0, 0, batch, ctx);
}

function writeFrom(groups: readonly LogGroup[], groupIndex: number, eventIndex: number, batch: OtlpBatch, ctx: LogWriteContext): Continuation | undefined {
  const w = batch.writer;
  for (let gi = groupIndex; gi < groups.length; gi++) {
    const { resource, events } = groups[gi]!;
    if (events.length === 0) continue;
    // ResourceLogs { resource = 1; scope_logs = 2 } → ScopeLogs { scope = 1; log_records = 2 }
    w.uint32(tag(1, WIRE_LEN)).fork();
    w.uint32(tag(1, WIRE_LEN)).bytes(resource);
    w.uint32(tag(2, WIRE_LEN)).fork();
    w.uint32(tag(1, WIRE_LEN)).bytes(SCOPE);
    for (let ei = gi === groupIndex ? eventIndex : 0; ei < events.length; ei++) {
      writeLogRecord(events[ei]!, ctx.observedAtMs, batch);
      const more = ei + 1 < events.length || gi + 1 < groups.length;
      if (more && batch.bytes >= ctx.maxBatchBytes) {
        w.ldelim().ldelim();
        const [nextGroup, nextEvent] = ei + 1 < events.length ? [gi, ei + 1] : [gi + 1, 0];
        return () => writeFrom(groups, nextGroup, nextEvent, batch, ctx);
      }
    }
    w.ldelim().ldelim();
  }
  return undefined;
}

const EVENT_ID = Buffer.from('log.record.uid');

/** protobufjs's buffer growth (checked in wire-write.ts) and, in Node, a Buffer's own UTF-8 writer, as its string writes use them. */
type TextWriter = Writer & { _reserve(n: number): void; buf: Buffer & { utf8Write(text: string, offset: number): number } };

const TIME_BYTES = 9; // tag + fixed64
const EVENT_ID_KEY = 2 + EVENT_ID.length; // tag + length + "log.record.uid"

/**
 * LogRecord { time_unix_nano = 1; body = 5; attributes = 6; observed_time_unix_nano = 11 }, each length known before
 * it is written: a fork reserves one byte and shifts what follows when the length needs more (every record over 127
 * bytes), and a record had four.
 */
function writeLogRecord(e: LogEvent, observedAtMs: number, batch: OtlpBatch): void {
  const w = batch.writer;
  const hasTime = typeof e.timestamp === 'number' && Number.isFinite(e.timestamp);
  const message = e.message;
  const text = typeof message === 'string';
  const messageBytes = text ? Buffer.byteLength(message) : message.length;
  // AnyValue { string_value = 1; bytes_value = 7 }
  const body = 1 + varintSize(messageBytes) + messageBytes;
  const id = e.id;
  const idBytes = typeof id === 'string' ? Buffer.byteLength(id) : 0;
  const idValue = 1 + varintSize(idBytes) + idBytes;
  const idKeyValue = EVENT_ID_KEY + 1 + varintSize(idValue) + idValue;
  const extra = e[LOG_ATTRIBUTES];
  let length = (hasTime ? TIME_BYTES : 0) + 1 + varintSize(body) + body + TIME_BYTES;
  if (typeof id === 'string') length += 1 + varintSize(idKeyValue) + idKeyValue;
  if (extra) for (const kv of extra) length += 1 + varintSize(kv.length) + kv.length;
  const fields = e[LOG_ATTRIBUTE_FIELDS];
  if (fields) length += fields.length;
  w.uint32(tag(2, WIRE_LEN)).uint32(length);
  if (hasTime) {
    w.uint32(tag(1, WIRE_FIXED64));
    writeFixed64Nanos(w, e.timestamp!);
  }
  w.uint32(tag(5, WIRE_LEN)).uint32(body);
  if (text) writeText(w, tag(1, WIRE_LEN), message, messageBytes);
  else w.uint32(tag(7, WIRE_LEN)).bytes(message);
  if (typeof id === 'string') {
    w.uint32(tag(6, WIRE_LEN)).uint32(idKeyValue);
    w.uint32(tag(1, WIRE_LEN)).bytes(EVENT_ID);
    w.uint32(tag(2, WIRE_LEN)).uint32(idValue);
    writeText(w, tag(1, WIRE_LEN), id, idBytes);
  }
  if (extra) for (const kv of extra) w.uint32(tag(6, WIRE_LEN)).bytes(kv);
  if (fields) copyRange(w, fields, 0, fields.length);
  w.uint32(tag(11, WIRE_FIXED64));
  writeFixed64Nanos(w, observedAtMs);
  batch.items++;
}

/** A string field whose UTF-8 length is known: its tag, length and bytes. */
function writeText(w: Writer, fieldTag: number, value: string, bytes: number): void {
  w.uint32(fieldTag).uint32(bytes);
  (w as TextWriter)._reserve(bytes);
  (w as TextWriter).buf.utf8Write(value, w.pos);
  w.pos += bytes;
}
