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
  if ('intValue' in v) return Number(v.intValue);
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

/** One flat object per data point or log record, resource and scope included. */
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

/**
 * The exporter used when no OTLP endpoint is configured: prints every data point and log record as
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
