import { type Attributes, type Link, ROOT_CONTEXT, type SpanContext, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

type Json = Record<string, any>;

const KINDS: Record<string, SpanKind> = {
  INTERNAL: SpanKind.INTERNAL,
  SERVER: SpanKind.SERVER,
  CLIENT: SpanKind.CLIENT,
  PRODUCER: SpanKind.PRODUCER,
  CONSUMER: SpanKind.CONSUMER,
};
const STATUS: Record<string, SpanStatusCode> = { UNSET: SpanStatusCode.UNSET, OK: SpanStatusCode.OK, ERROR: SpanStatusCode.ERROR };

/** Nanoseconds (a bigint or its digits) as the SDK's HrTime, exactly. */
const hrTime = (ns: bigint | string): [number, number] => {
  const n = BigInt(ns);
  return [Number(n / 1_000_000_000n), Number(n % 1_000_000_000n)];
};

/**
 * The same spans as fixture JSON (span-fixtures.ts) describes them, made by the OpenTelemetry JS SDK — one
 * tracer provider per resource, one tracer per scope, ids, times, kinds, events, links and status as given —
 * as the SDK hands them to an exporter.
 */
export function sdkSpans(spans: readonly Json[]): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const ids: { trace: string[]; span: string[] } = { trace: [], span: [] };
  const providers = new Map<string, BasicTracerProvider>();
  for (const s of spans) {
    const key = JSON.stringify(s.resource.attributes);
    let provider = providers.get(key);
    if (!provider) {
      provider = new BasicTracerProvider({
        resource: resourceFromAttributes(s.resource.attributes),
        idGenerator: { generateTraceId: () => ids.trace.shift()!, generateSpanId: () => ids.span.shift()! },
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      });
      providers.set(key, provider);
    }
    const tracer = provider.getTracer(s.scope.name, s.scope.version || undefined);
    ids.span.push(s.spanId);
    let ctx = ROOT_CONTEXT;
    if (s.parentSpanId) {
      const parent: SpanContext = {
        traceId: s.traceId,
        spanId: s.parentSpanId,
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
        ...(s.traceState ? { traceState: new TraceState(s.traceState) } : {}),
      };
      ctx = trace.setSpanContext(ROOT_CONTEXT, parent);
    } else {
      ids.trace.push(s.traceId);
    }
    const links: Link[] = (s.links ?? []).map((l: Json) => ({
      context: { traceId: l.traceId, spanId: l.spanId, traceFlags: TraceFlags.NONE },
      attributes: l.attributes as Attributes,
    }));
    const span = tracer.startSpan(
      s.name,
      { kind: KINDS[String(s.kind).replace('SPAN_KIND_', '')]!, attributes: s.attributes as Attributes, links, startTime: hrTime(s.startTimeUnixNano) },
      ctx,
    );
    for (const e of s.events ?? []) span.addEvent(e.name, e.attributes as Attributes, hrTime(e.timeUnixNano));
    if (s.status) span.setStatus({ code: STATUS[s.status.code]!, ...(s.status.message ? { message: s.status.message } : {}) });
    span.end(hrTime(s.endTimeUnixNano));
  }
  return exporter.getFinishedSpans();
}

/** Those spans encoded by @opentelemetry/otlp-transformer's protobuf trace serializer: what an OTLP exporter would send. */
export const sdkEncodedSpans = (spans: readonly Json[]): Uint8Array => ProtobufTraceSerializer.serializeRequest(sdkSpans(spans))!;
