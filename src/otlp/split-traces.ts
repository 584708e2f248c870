import { Reader, WIRE_LEN, WireError, tag } from './wire-format.ts';
import { readLenBounds, skipField } from './wire-read.ts';
import { varintSize } from './wire-write.ts';

/** One piece of a split ExportTraceServiceRequest: its bytes and how many spans it holds. */
export interface TracesPiece {
  readonly payload: Uint8Array;
  readonly items: number;
}

interface Range {
  readonly start: number;
  readonly end: number;
}

/** A ScopeSpans as read: its fields other than the spans (scope, schema_url) as they were, and each span's field. */
interface ScopeRead {
  readonly rest: Range[];
  readonly spans: Range[];
}

interface ResourceRead {
  readonly rest: Range[];
  readonly scopes: ScopeRead[];
}

const RESOURCE_SPANS = tag(1, WIRE_LEN);
const SCOPE_SPANS = tag(2, WIRE_LEN);
const SPANS = tag(2, WIRE_LEN);

/**
 * Cuts an ExportTraceServiceRequest (ResourceSpans = 1 → ScopeSpans = 2 → Span = 2) into requests of at most
 * `maxSpans` spans and, where a span allows, `maxBytes` bytes, in order: each span stays under its resource and
 * scope, whose other fields are copied into every piece that holds spans of theirs. A request within both limits
 * is returned as it is. Throws WireError when the bytes are not such a request.
 */
export function splitTracesRequest(payload: Uint8Array, maxSpans: number, maxBytes: number): TracesPiece[] {
  const resources = readResources(payload);
  const total = resources.reduce((n, r) => n + r.scopes.reduce((m, s) => m + s.spans.length, 0), 0);
  if (total <= maxSpans && payload.length <= maxBytes) return [{ payload, items: total }];

  const pieces: TracesPiece[] = [];
  let piece: ResourceRead[] = [];
  let spans = 0;
  let bytes = 0;
  const close = () => {
    if (spans > 0) pieces.push({ payload: encode(payload, piece), items: spans });
    piece = [];
    spans = 0;
    bytes = 0;
  };
  for (const resource of resources) {
    const resourceHead = size(resource.rest) + HEAD_ROOM;
    let pieceResource: ResourceRead | undefined;
    for (const scope of resource.scopes) {
      const scopeHead = size(scope.rest) + HEAD_ROOM;
      let pieceScope: ScopeRead | undefined;
      for (const span of scope.spans) {
        const spanBytes = span.end - span.start;
        const cost = spanBytes + (pieceScope ? 0 : scopeHead) + (pieceResource ? 0 : resourceHead);
        if (spans > 0 && (spans >= maxSpans || bytes + cost > maxBytes)) {
          close();
          pieceResource = undefined;
          pieceScope = undefined;
        }
        if (!pieceResource) {
          pieceResource = { rest: resource.rest, scopes: [] };
          piece.push(pieceResource);
          bytes += resourceHead;
        }
        if (!pieceScope) {
          pieceScope = { rest: scope.rest, spans: [] };
          pieceResource.scopes.push(pieceScope);
          bytes += scopeHead;
        }
        pieceScope.spans.push(span);
        spans++;
        bytes += spanBytes;
      }
    }
  }
  close();
  return pieces;
}

/** What a ResourceSpans' or ScopeSpans' own tag and length may take besides its fields, counted generously. */
const HEAD_ROOM = 12;

const size = (ranges: readonly Range[]): number => ranges.reduce((n, r) => n + r.end - r.start, 0);

function readResources(payload: Uint8Array): ResourceRead[] {
  const r = Reader.create(payload);
  const resources: ResourceRead[] = [];
  eachField(r, payload.length, RESOURCE_SPANS, (end) => {
    const resource: ResourceRead = { rest: [], scopes: [] };
    resource.rest.push(
      ...eachField(r, end, SCOPE_SPANS, (scopeEnd) => {
        const scope: ScopeRead = { rest: [], spans: [] };
        scope.rest.push(...eachField(r, scopeEnd, SPANS, (_spanEnd, span) => scope.spans.push(span)));
        resource.scopes.push(scope);
      }),
    );
    resources.push(resource);
  });
  return resources;
}

/**
 * Walks a message's fields up to `end`: `onChild` is called for each length-delimited field tagged `child` (with
 * its end and the field's whole range, tag included) and may read its contents; every other field is returned as a
 * range to copy (at the top level there is none in OTLP, and any there is dropped by the caller).
 */
function eachField(r: Reader, end: number, child: number, onChild: (childEnd: number, field: Range) => void): Range[] {
  const rest: Range[] = [];
  while (r.pos < end) {
    const start = r.pos;
    const t = r.uint32();
    if (t >>> 3 === 0) throw new WireError(`field number 0 at byte ${start}`);
    if (t === child) {
      const childEnd = readLenBounds(r, end);
      onChild(childEnd, { start, end: childEnd });
      r.pos = childEnd;
      continue;
    }
    skipField(r, t & 7, end);
    rest.push({ start, end: r.pos });
  }
  return rest;
}

/** Writes the pieces' resources, scopes and spans as an ExportTraceServiceRequest, copying each range from `src`. */
function encode(src: Uint8Array, resources: readonly ResourceRead[]): Uint8Array {
  const scopeLength = (s: ScopeRead) => size(s.rest) + size(s.spans);
  const resourceLength = (res: ResourceRead) => size(res.rest) + res.scopes.reduce((n, s) => n + field(scopeLength(s)), 0);
  const total = resources.reduce((n, res) => n + field(resourceLength(res)), 0);
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  const copy = (ranges: readonly Range[]) => {
    for (const { start, end } of ranges) {
      out.set(src.subarray(start, end), p);
      p += end - start;
    }
  };
  const head = (fieldTag: number, length: number) => {
    out[p++] = fieldTag;
    for (let v = length; ; v >>>= 7) {
      if (v < 0x80) {
        out[p++] = v;
        break;
      }
      out[p++] = (v & 0x7f) | 0x80;
    }
  };
  for (const res of resources) {
    head(RESOURCE_SPANS, resourceLength(res));
    copy(res.rest);
    for (const s of res.scopes) {
      head(SCOPE_SPANS, scopeLength(s));
      copy(s.rest);
      copy(s.spans);
    }
  }
  if (p !== total) throw new WireError(`split traces request: wrote ${p} of ${total} bytes`);
  return out;
}

/** A length-delimited field's size with its one-byte tag. */
const field = (length: number): number => 1 + varintSize(length) + length;
