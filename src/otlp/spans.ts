import type { OtlpBatch } from './batch.ts';
import { writeHexId } from './hex-ids.ts';
import { writeAttributes } from './json-values.ts';
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, type Writer, tag } from './wire-format.ts';
import { closeField, openField } from './wire-write.ts';

/** Attributes as a flat map of parsed JSON values (json-values.ts writes each as its AnyValue). */
export type JsonAttributes = Readonly<Record<string, unknown>>;

export interface SpanEvent {
  /** Nanoseconds as their decimal digits (see writeFixed64Digits). */
  readonly timeUnixNano: string;
  readonly name: string;
  readonly attributes: JsonAttributes | undefined;
  readonly droppedAttributesCount: number;
}

export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string | undefined;
  readonly attributes: JsonAttributes | undefined;
  readonly droppedAttributesCount: number;
  readonly flags: number | undefined;
}

/** One span, read and checked: ids as their hex text (hex-ids.ts), times as exact nanoseconds, kind and status code as OTLP numbers. */
export interface SpanData {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceState: string | undefined;
  readonly flags: number | undefined;
  readonly name: string;
  /** SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** Nanoseconds as their decimal digits, at most 2^64 − 1 (see writeFixed64Digits). */
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: JsonAttributes | undefined;
  readonly droppedAttributesCount: number;
  readonly events: readonly SpanEvent[];
  readonly droppedEventsCount: number;
  readonly links: readonly SpanLink[];
  readonly droppedLinksCount: number;
  /** StatusCode 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message: string | undefined } | undefined;
}

/** The spans of one instrumentation scope (an encoded InstrumentationScope). */
export interface ScopeSpans {
  readonly scope: Uint8Array;
  readonly spans: SpanData[];
}

/** The spans of one OTLP Resource (an encoded Resource message), by scope. */
export interface SpanGroup {
  readonly resource: Uint8Array;
  readonly scopes: readonly ScopeSpans[];
}

/** Writes the groups as ResourceSpans { resource = 1; scope_spans = 2 { scope = 1; spans = 2 } } into the batch. */
export function appendSpanGroups(groups: readonly SpanGroup[], batch: OtlpBatch): void {
  const w = batch.writer;
  for (const { resource, scopes } of groups) {
    const rs = openField(w, tag(1, WIRE_LEN), GROUP);
    w.uint32(tag(1, WIRE_LEN)).bytes(resource);
    for (const { scope, spans } of scopes) {
      if (spans.length === 0) continue;
      const ss = openField(w, tag(2, WIRE_LEN), GROUP);
      w.uint32(tag(1, WIRE_LEN)).bytes(scope);
      for (let i = 0; i < spans.length; i++) writeSpan(w, spans[i]!);
      closeField(w, ss, GROUP);
      batch.items += spans.length;
    }
    closeField(w, rs, GROUP);
  }
}

/** Length guesses for openField: a span (or event, link) of 128 B to 16 KiB; a group of spans up to 2 MiB. */
const SPAN = 128;
const GROUP = 1 << 14;
const TWO_32 = 4294967296;

/**
 * Writes a fixed64 of an unsigned integer given as decimal digits (at most 2^64 − 1), exactly and without a
 * BigInt: the value is H × 10⁹ + L, and H (< 2^35) is split in 16-bit halves so that every partial product
 * fits a double's 53 bits; then the two 32-bit halves, low first.
 */
export function writeFixed64Digits(w: Writer, digits: string): void {
  if (digits.length <= 15) {
    const n = Number(digits);
    w.fixed32(n % TWO_32).fixed32(Math.floor(n / TWO_32));
    return;
  }
  const split = digits.length - 9;
  const high = decimal(digits, 0, split);
  const low = decimal(digits, split, digits.length);
  const hh = Math.floor(high / 65536);
  const t1 = (high - hh * 65536) * 1e9; // < 2^46
  const t2 = hh * 1e9; // < 2^49
  const lowPart = (t2 % 65536) * 65536 + t1 + low; // < 2^47
  w.fixed32(lowPart % TWO_32).fixed32(Math.floor(t2 / 65536) + Math.floor(lowPart / TWO_32));
}

/** The value of the decimal digits [from, to) (fewer than 16): no substring, no string-to-number conversion. */
function decimal(digits: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (digits.charCodeAt(i) - 0x30);
  return n;
}

function fixed64(w: Writer, field: number, digits: string): void {
  writeFixed64Digits(w.uint32(tag(field, WIRE_FIXED64)), digits);
}

function count(w: Writer, field: number, value: number): void {
  if (value > 0) w.uint32(tag(field, WIRE_VARINT)).uint32(value);
}

/**
 * Span { trace_id 1; span_id 2; trace_state 3; parent_span_id 4; name 5; kind 6; start 7; end 8; attributes 9;
 * dropped_attributes_count 10; events 11; dropped_events_count 12; links 13; dropped_links_count 14; status 15; flags 16 }.
 */
function writeSpan(w: Writer, s: SpanData): void {
  const span = openField(w, tag(2, WIRE_LEN), SPAN);
  writeHexId(w, tag(1, WIRE_LEN), s.traceId);
  writeHexId(w, tag(2, WIRE_LEN), s.spanId);
  if (s.traceState) w.uint32(tag(3, WIRE_LEN)).string(s.traceState);
  if (s.parentSpanId) writeHexId(w, tag(4, WIRE_LEN), s.parentSpanId);
  w.uint32(tag(5, WIRE_LEN)).string(s.name);
  if (s.kind !== 0) w.uint32(tag(6, WIRE_VARINT)).int32(s.kind);
  fixed64(w, 7, s.startTimeUnixNano);
  fixed64(w, 8, s.endTimeUnixNano);
  writeAttributes(w, 9, s.attributes);
  count(w, 10, s.droppedAttributesCount);
  for (const e of s.events) {
    // Event { time_unix_nano 1; name 2; attributes 3; dropped_attributes_count 4 }
    const event = openField(w, tag(11, WIRE_LEN), SPAN);
    fixed64(w, 1, e.timeUnixNano);
    if (e.name) w.uint32(tag(2, WIRE_LEN)).string(e.name);
    writeAttributes(w, 3, e.attributes);
    count(w, 4, e.droppedAttributesCount);
    closeField(w, event, SPAN);
  }
  count(w, 12, s.droppedEventsCount);
  for (const l of s.links) {
    // Link { trace_id 1; span_id 2; trace_state 3; attributes 4; dropped_attributes_count 5; flags 6 }
    const link = openField(w, tag(13, WIRE_LEN), SPAN);
    writeHexId(w, tag(1, WIRE_LEN), l.traceId);
    writeHexId(w, tag(2, WIRE_LEN), l.spanId);
    if (l.traceState) w.uint32(tag(3, WIRE_LEN)).string(l.traceState);
    writeAttributes(w, 4, l.attributes);
    count(w, 5, l.droppedAttributesCount);
    if (l.flags !== undefined) w.uint32(tag(6, WIRE_FIXED32)).fixed32(l.flags);
    closeField(w, link, SPAN);
  }
  count(w, 14, s.droppedLinksCount);
  if (s.status && (s.status.code !== 0 || s.status.message)) {
    // Status { message 2; code 3 }
    const status = openField(w, tag(15, WIRE_LEN), 0);
    if (s.status.message) w.uint32(tag(2, WIRE_LEN)).string(s.status.message);
    if (s.status.code !== 0) w.uint32(tag(3, WIRE_VARINT)).int32(s.status.code);
    closeField(w, status, 0);
  }
  if (s.flags !== undefined) w.uint32(tag(16, WIRE_FIXED32)).fixed32(s.flags);
  closeField(w, span, SPAN);
}
