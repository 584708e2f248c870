import { describe, expect, it } from 'vitest';
import { decodeToJson } from '../../../src/otlp/schema.ts';
import { splitTracesRequest } from '../../../src/otlp/split-traces.ts';
import { WireError } from '../../../src/otlp/wire-format.ts';
import { sdkEncodedSpans } from '../../helpers/sdk-spans.ts';
import { ecsSpan, lambdaTrace } from '../../helpers/span-fixtures.ts';

type Json = Record<string, any>;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** `count` spans of two resources (a Lambda function and an ECS service), each resource under its own scopes. */
function manySpans(count: number): Json[] {
  const lambda = lambdaTrace();
  const shapes = [lambda[0]!, lambda[1]!, ecsSpan()];
  return Array.from({ length: count }, (_, i) => {
    const span = structuredClone(shapes[i % shapes.length]!);
    span.spanId = hex(i + 1, 16);
    span.traceId = hex(1000 + i, 32);
    delete span.parentSpanId;
    span.name = `${span.name} #${i}`;
    return span;
  });
}

/** Every span of a decoded request with its resource's and scope's fields, in order. */
function flatSpans(payload: Uint8Array): Json[] {
  const request = decodeToJson('traces', payload) as Json;
  return (request.resourceSpans ?? []).flatMap((rs: Json) =>
    (rs.scopeSpans ?? []).flatMap((ss: Json) => (ss.spans ?? []).map((span: Json) => ({ resource: rs.resource, scope: ss.scope, span }))),
  );
}

describe('splitting a traces export for span and size limits', () => {
  it('returns a request within both limits as it is', () => {
    const payload = sdkEncodedSpans(manySpans(12));
    const pieces = splitTracesRequest(payload, 12, payload.length);
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.payload).toBe(payload);
    expect(pieces[0]!.items).toBe(12);
  });

  it('cuts a request into pieces of at most the span limit, every span once, in order, under its own resource and scope', () => {
    const payload = sdkEncodedSpans(manySpans(25));
    const pieces = splitTracesRequest(payload, 10, 1 << 22);
    expect(pieces.map((p) => p.items)).toEqual([10, 10, 5]);
    for (const piece of pieces) expect(flatSpans(piece.payload)).toHaveLength(piece.items);
    expect(pieces.flatMap((p) => flatSpans(p.payload))).toEqual(flatSpans(payload));
  });

  it('keeps each piece within the byte limit when the spans allow it', () => {
    const payload = sdkEncodedSpans(manySpans(40));
    const maxBytes = 2_000;
    const pieces = splitTracesRequest(payload, 10_000, maxBytes);
    expect(pieces.length).toBeGreaterThan(payload.length / maxBytes);
    for (const piece of pieces) expect(piece.payload.length).toBeLessThanOrEqual(maxBytes);
    expect(pieces.reduce((n, p) => n + p.items, 0)).toBe(40);
    expect(pieces.flatMap((p) => flatSpans(p.payload))).toEqual(flatSpans(payload));
  });

  it('sends a span larger than the byte limit in a piece of its own rather than dropping it', () => {
    const big = manySpans(3);
    big[1]!.attributes = { ...big[1]!.attributes, 'db.statement': 'x'.repeat(5_000) };
    const payload = sdkEncodedSpans(big);
    const pieces = splitTracesRequest(payload, 10_000, 1_000);
    expect(pieces.map((p) => p.items)).toEqual([1, 1, 1]);
    expect(pieces.flatMap((p) => flatSpans(p.payload))).toEqual(flatSpans(payload));
  });

  it('refuses bytes that are not a traces request with a WireError', () => {
    const payload = sdkEncodedSpans(manySpans(5));
    expect(() => splitTracesRequest(payload.subarray(0, payload.length - 3), 2, 1 << 20)).toThrow(WireError);
  });
});
