import { spanIdOf, traceIdOf } from '../otlp/hex-ids.ts';
import { markedInteger } from '../otlp/json-values.ts';
import type { JsonAttributes, SpanData, SpanEvent, SpanLink } from '../otlp/spans.ts';
import { RecordError } from './record-error.ts';

/** One span as Transaction Search writes it, read: the span, and the resource and scope it names. */
export interface ReadSpan {
  readonly span: SpanData;
  readonly resource: JsonAttributes;
  readonly scope: { readonly name: string; readonly version: string; readonly attributes: JsonAttributes | undefined };
}

type Obj = Record<string, unknown>;

const KINDS: Readonly<Record<string, number>> = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const STATUS_CODES: Readonly<Record<string, number>> = { UNSET: 0, OK: 1, ERROR: 2 };
const MAX_U64 = '18446744073709551615';
const DIGITS = /^\d{1,30}$/;
const LEADING_ZEROS = /^0+(?=\d)/;

const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const shown = (v: unknown): string => (v === undefined ? 'missing' : JSON.stringify(typeof v === 'bigint' ? String(v) : v).slice(0, 60));
const bad = (message: string): RecordError => new RecordError('format', message);

/** A trace id: 32 hex digits or X-Ray's `1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx`, not all zeros. */
export function traceId(v: unknown, where: string, field = ''): string {
  const id = traceIdOf(v);
  if (id) return id;
  throw bad(`${where}${field} is ${shown(v)}; expected 32 hex digits (W3C) or an X-Ray trace id (1-5759e988-bd862e3fe1be46a994272793), not all zeros`);
}

/** A span id: 16 hex digits, not all zeros. */
export function spanId(v: unknown, where: string, field = ''): string {
  const id = spanIdOf(v);
  if (id) return id;
  throw bad(`${where}${field} is ${shown(v)}; expected 16 hex digits, not all zeros`);
}

/**
 * Nanoseconds since the epoch, exactly, as their decimal digits: a safe integer, a marked big integer
 * (exact-json.ts) or a string of digits, at most 2^64 − 1.
 */
export function nanos(v: unknown, where: string, field = ''): string {
  if (typeof v === 'string') {
    // The common forms (marked or quoted digits, no leading zero, < 20 digits) checked in one loop.
    const from = v.charCodeAt(0) === 1 ? 1 : 0;
    const n = v.length - from;
    if (n > 0 && n < 20 && v.charCodeAt(from) !== 0x30 && allDigits(v, from)) return from === 0 ? v : v.slice(1);
  }
  let digits: string | undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) digits = String(v);
  else if (typeof v === 'string') digits = v.charCodeAt(0) === 1 ? v.slice(1) : v;
  if (digits !== undefined && DIGITS.test(digits)) {
    digits = digits.replace(LEADING_ZEROS, '');
    if (digits.length < 20 || (digits.length === 20 && digits <= MAX_U64)) return digits;
  }
  if (typeof v === 'number' && Number.isInteger(v) && v > 0)
    throw bad(`${where}${field} is ${shown(v)}, not exact: write the nanoseconds' digits, not an exponent`);
  throw bad(`${where}${field} is ${shown(v)}; expected nanoseconds since the epoch as an integer (a JSON number or a string of digits)`);
}

function optionalCount(v: unknown, where: string, field = ''): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  throw bad(`${where}${field} is ${shown(v)}; expected a count`);
}

function optionalFlags(v: unknown, where: string, field = ''): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  throw bad(`${where}${field} is ${shown(v)}; expected an unsigned 32-bit integer`);
}

function optionalString(v: unknown, where: string, field = ''): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  throw bad(`${where}${field} is ${shown(v)}; expected a string`);
}

function allDigits(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** `SERVER`, `SPAN_KIND_SERVER` (any case) or the OTLP number. */
function kindOf(v: unknown, where: string, field = ''): number {
  if (v === undefined || v === null) return 0;
  switch (v) {
    case 'SERVER':
    case 'SPAN_KIND_SERVER':
      return 2;
    case 'CLIENT':
    case 'SPAN_KIND_CLIENT':
      return 3;
    case 'INTERNAL':
    case 'SPAN_KIND_INTERNAL':
      return 1;
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 5) return v;
  if (typeof v === 'string') {
    const k = KINDS[v.toUpperCase().replace(/^SPAN_KIND_/, '')];
    if (k !== undefined) return k;
  }
  throw bad(`${where}${field} is ${shown(v)}; expected one of ${Object.keys(KINDS).join(', ')} (or SPAN_KIND_…, or 0–5)`);
}

function statusOf(v: unknown, where: string, field = ''): SpanData['status'] {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw bad(`${where}${field} is ${shown(v)}; expected an object {code, message}`);
  let code: number | undefined;
  const c = v.code;
  if (c === undefined || c === null) code = 0;
  else if (typeof c === 'number' && Number.isInteger(c) && c >= 0 && c <= 2) code = c;
  else if (typeof c === 'string') code = STATUS_CODES[c.toUpperCase().replace(/^STATUS_CODE_/, '')];
  if (code === undefined) throw bad(`${where}${field}.code is ${shown(c)}; expected UNSET, OK or ERROR (or STATUS_CODE_…, or 0–2)`);
  return { code, message: optionalString(v.message, where, '.message') };
}

/** An OTLP/JSON AnyValue as the plain value it stands for (intValue exactly, bytesValue as bytes). */
function plainOfAnyValue(v: unknown): unknown {
  if (!isObject(v)) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) {
    const i = v.intValue;
    return typeof i === 'string' ? (markedInteger(i) ?? (/^-?\d+$/.test(i) ? BigInt(i) : i)) : i;
  }
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return isObject(v.arrayValue) && Array.isArray(v.arrayValue.values) ? v.arrayValue.values.map(plainOfAnyValue) : [];
  if ('kvlistValue' in v) return isObject(v.kvlistValue) ? keyValueList(v.kvlistValue.values, 'kvlistValue') : {};
  if ('bytesValue' in v && typeof v.bytesValue === 'string') return Buffer.from(v.bytesValue, 'base64');
  return null;
}

function keyValueList(list: unknown, where: string, field = ''): Obj {
  const out: Obj = {};
  if (!Array.isArray(list)) return out;
  for (let i = 0; i < list.length; i++) {
    const kv = list[i];
    if (!isObject(kv) || typeof kv.key !== 'string') throw bad(`${where}${field}[${i}] is ${shown(kv)}; expected {"key": …, "value": {…}}`);
    out[kv.key] = plainOfAnyValue(kv.value);
  }
  return out;
}

/** Attributes as a flat map (`{"http.method": "GET"}`, values of any JSON type) or OTLP's KeyValue[]. */
export function attributesOf(v: unknown, where: string, field = ''): JsonAttributes | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return keyValueList(v, where, field);
  if (isObject(v)) return v;
  throw bad(`${where}${field} is ${shown(v)}; expected an object of attributes or a list of {key, value}`);
}

/** Shared by the spans without events or links. */
const NONE: readonly never[] = Object.freeze([]);

function eventsOf(v: unknown, where: string, field = ''): readonly SpanEvent[] {
  if (v === undefined || v === null) return NONE;
  if (!Array.isArray(v)) throw bad(`${where}${field} is ${shown(v)}; expected a list`);
  return v.map((e, i) => {
    const at = `${where}${field}[${i}]`;
    if (!isObject(e)) throw bad(`${at} is ${shown(e)}; expected an object`);
    return {
      timeUnixNano: nanos(e.timeUnixNano, at, '.timeUnixNano'),
      name: optionalString(e.name, at, '.name') ?? '',
      attributes: attributesOf(e.attributes, at, '.attributes'),
      droppedAttributesCount: optionalCount(e.droppedAttributesCount, at, '.droppedAttributesCount'),
    };
  });
}

function linksOf(v: unknown, where: string, field = ''): readonly SpanLink[] {
  if (v === undefined || v === null) return NONE;
  if (!Array.isArray(v)) throw bad(`${where}${field} is ${shown(v)}; expected a list`);
  return v.map((l, i) => {
    const at = `${where}${field}[${i}]`;
    if (!isObject(l)) throw bad(`${at} is ${shown(l)}; expected an object`);
    return {
      traceId: traceId(l.traceId, at, '.traceId'),
      spanId: spanId(l.spanId, at, '.spanId'),
      traceState: optionalString(l.traceState, at, '.traceState'),
      attributes: attributesOf(l.attributes, at, '.attributes'),
      droppedAttributesCount: optionalCount(l.droppedAttributesCount, at, '.droppedAttributesCount'),
      flags: optionalFlags(l.flags, at, '.flags'),
    };
  });
}

/** No parent: absent, empty, or all zeros (as some converters write a root span's). */
function parentOf(v: unknown, where: string, field = ''): string | undefined {
  if (v === undefined || v === null || v === '' || v === '0000000000000000') return undefined;
  return spanId(v, where, field);
}

/**
 * Reads one span of parsed JSON (exact-json.ts), checking every field it uses; unknown fields are ignored.
 * The end is `endTimeUnixNano`, else the start plus `durationNano`. Throws RecordError naming the field.
 */
export function readSpan(value: unknown, where: string, field = ''): ReadSpan {
  if (!isObject(value)) throw bad(`${where}${field} is ${shown(value)}; expected a span object`);
  const s = value;
  const start = nanos(s.startTimeUnixNano, where, '.startTimeUnixNano');
  const end =
    s.endTimeUnixNano === undefined && s.durationNano !== undefined
      ? nanos(String(BigInt(start) + BigInt(nanos(s.durationNano, where, '.durationNano'))), where, '.startTimeUnixNano + durationNano')
      : nanos(s.endTimeUnixNano, where, '.endTimeUnixNano');
  const resource = isObject(s.resource) ? (attributesOf(s.resource.attributes, where, '.resource.attributes') ?? {}) : {};
  const scope = isObject(s.scope) ? s.scope : {};
  const name = optionalString(s.name, where, '.name');
  return {
    span: {
      traceId: traceId(s.traceId, where, '.traceId'),
      spanId: spanId(s.spanId, where, '.spanId'),
      parentSpanId: parentOf(s.parentSpanId, where, '.parentSpanId'),
      traceState: optionalString(s.traceState, where, '.traceState'),
      flags: optionalFlags(s.flags, where, '.flags'),
      name: name ?? '',
      kind: kindOf(s.kind, where, '.kind'),
      startTimeUnixNano: start,
      endTimeUnixNano: end,
      attributes: attributesOf(s.attributes, where, '.attributes'),
      droppedAttributesCount: optionalCount(s.droppedAttributesCount, where, '.droppedAttributesCount'),
      events: eventsOf(s.events, where, '.events'),
      droppedEventsCount: optionalCount(s.droppedEventsCount, where, '.droppedEventsCount'),
      links: linksOf(s.links, where, '.links'),
      droppedLinksCount: optionalCount(s.droppedLinksCount, where, '.droppedLinksCount'),
      status: statusOf(s.status, where, '.status'),
    },
    resource,
    scope: {
      name: optionalString(scope.name, where, '.scope.name') ?? '',
      version: optionalString(scope.version, where, '.scope.version') ?? '',
      attributes: attributesOf(scope.attributes, where, '.scope.attributes'),
    },
  };
}
