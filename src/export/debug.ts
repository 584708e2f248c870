import type { Writable } from 'node:stream';
import { once } from 'node:events';
import { decodeToJson } from '../otlp/schema.ts';
import type { ExportRequest, ExportResult, Exporter } from './exporter.ts';

// biome-ignore lint/suspicious/noExplicitAny: OTLP/JSON as protobufjs's toObject gives it, walked by field name
type Obj = Record<string, any>;

/** Turns an OTLP/JSON AnyValue into the plain JSON value it stands for. */
export function plainValue(v: Obj | undefined): unknown {
  if (!v) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  // Exact: an int64 beyond 2^53 stays its digits.
  if ('intValue' in v) return Number.isSafeInteger(Number(v.intValue)) ? Number(v.intValue) : String(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(plainValue);
  if ('kvlistValue' in v) return plainAttributes(v.kvlistValue.values);
  if ('bytesValue' in v) return v.bytesValue;
  return null;
}

export function plainAttributes(kvs: Obj[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of kvs ?? []) out[kv.key] = plainValue(kv.value);
  return out;
}

const DATA_KINDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;

/** One flat object per data point, log record or span, resource and scope included. */
export function* debugLines(request: Pick<ExportRequest, 'signal' | 'payload'>): Generator<Obj> {
  const decoded = decodeToJson(request.signal, request.payload);
  if (request.signal === 'metrics') {
    for (const rm of (decoded.resourceMetrics ?? []) as Obj[]) {
      const resource = plainAttributes(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const kind = DATA_KINDS.find((k) => m[k]);
          for (const dp of kind ? (m[kind].dataPoints ?? []) : []) {
            const { attributes, ...values } = dp;
            yield {
              signal: 'metrics',
              resource,
              scope: sm.scope?.name ?? '',
              metric: m.name,
              unit: m.unit ?? '',
              type: kind,
              attributes: plainAttributes(attributes),
              ...values,
            };
          }
        }
      }
    }
  } else if (request.signal === 'traces') {
    yield* spanLines(decoded);
  } else {
    for (const rl of (decoded.resourceLogs ?? []) as Obj[]) {
      const resource = plainAttributes(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const lr of sl.logRecords ?? []) {
          const { attributes, body, ...rest } = lr;
          yield { signal: 'logs', resource, scope: sl.scope?.name ?? '', ...rest, body: plainValue(body), attributes: plainAttributes(attributes) };
        }
      }
    }
  }
}

/** One line per span: ids in hex, times as nanosecond strings, attributes of span, events and links as plain JSON. */
function* spanLines(decoded: Obj): Generator<Obj> {
  for (const rs of (decoded.resourceSpans ?? []) as Obj[]) {
    const resource = plainAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const span of ss.spans ?? []) {
        const { attributes, events, links, ...rest } = span;
        yield {
          signal: 'traces',
          resource,
          scope: ss.scope?.name ?? '',
          ...rest,
          attributes: plainAttributes(attributes),
          ...(events ? { events: events.map((e: Obj) => ({ ...e, attributes: plainAttributes(e.attributes) })) } : {}),
          ...(links ? { links: links.map((l: Obj) => ({ ...l, attributes: plainAttributes(l.attributes) })) } : {}),
        };
      }
    }
  }
}

/**
 * The exporter used when no OTLP endpoint is configured: prints every data point, log record and span as
 * one JSON line, so that `curl` against a laptop shows exactly what would be forwarded.
 */
export function createDebugExporter(out: Writable = process.stdout): Exporter {
  return {
    async export(request: ExportRequest): Promise<ExportResult> {
      let text = '';
      for (const line of debugLines(request)) text += `${JSON.stringify(line)}\n`;
      if (!out.write(text)) await once(out, 'drain');
      return { status: 'success' };
    },
    async shutdown(): Promise<void> {},
  };
}
