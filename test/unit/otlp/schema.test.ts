import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { decodeToJson } from '../../../src/otlp/schema.ts';
import { sdkSpans } from '../../helpers/sdk-spans.ts';
import { ecsSpan, lambdaTrace } from '../../helpers/span-fixtures.ts';

class CollectOnDemand extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const resource = resourceFromAttributes({ 'service.name': 'schema-test', 'cloud.account.id': '123456789012' });
const attributes = { s: 'x', i: 5, d: 1.5, b: true, arr: ['p', 'q'], unicode: '✓ 日本' };

/**
 * The two encodings differ in representation only: OTLP/JSON may write 64-bit integers as numbers or
 * strings, and may or may not spell out default values. Both are brought to one form: integers as
 * decimal strings, members holding a default (0, "", false, empty) left out.
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const c = canonical(v);
      const isDefault =
        c === '0' || c === '' || c === false || (Array.isArray(c) && c.length === 0) || (c !== null && typeof c === 'object' && Object.keys(c).length === 0);
      if (!isDefault) out[k] = c;
    }
    return out;
  }
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return value;
}

/**
 * Our OTLP message definitions are written by hand from the specification. These tests decode what
 * @opentelemetry/otlp-transformer encodes as protobuf with them and compare the result with what the
 * same library encodes as OTLP/JSON: any wrong field number or type shows up as a difference.
 */
describe('the OTLP schema', () => {
  it('decodes otlp-transformer protobuf metrics of every kind to exactly its OTLP/JSON', async () => {
    const reader = new CollectOnDemand();
    const provider = new MeterProvider({
      resource,
      readers: [reader],
      views: [{ instrumentName: 'exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const meter = provider.getMeter('scope-a', '1.2.3');
    meter.createCounter('counter', { unit: 'By', description: 'a sum' }).add(3, attributes);
    meter.createUpDownCounter('updown').add(-2, attributes);
    meter.createGauge('gauge').record(42.25, attributes);
    meter.createHistogram('hist').record(7, attributes);
    const exp = meter.createHistogram('exp');
    for (const v of [0.001, 1, 3, 250, 1e6]) exp.record(v, attributes);
    const { resourceMetrics } = await reader.collect();

    const fromProtobuf = decodeToJson('metrics', ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!);
    const fromJson = JSON.parse(Buffer.from(JsonMetricsSerializer.serializeRequest(resourceMetrics)!).toString('utf8'));
    expect(canonical(fromProtobuf)).toEqual(canonical(fromJson));
    const kinds = (fromProtobuf as any).resourceMetrics[0].scopeMetrics[0].metrics.map(
      (m: any) => `${m.name}:${Object.keys(m).find((k) => ['sum', 'gauge', 'histogram', 'exponentialHistogram'].includes(k))}`,
    );
    expect(kinds.sort()).toEqual(['counter:sum', 'exp:exponentialHistogram', 'gauge:gauge', 'hist:histogram', 'updown:sum']);
  });

  it('decodes otlp-transformer protobuf logs to exactly its OTLP/JSON', () => {
    // ReadableLogRecord, the input of the logs serializers, built directly.
    const scope = { name: 'scope-l', version: '0.1' };
    const base = { resource, instrumentationScope: scope, droppedAttributesCount: 0 };
    const records = [
      {
        ...base,
        hrTime: [1_795_000_000, 123_456_789],
        hrTimeObserved: [1_795_000_001, 5],
        body: 'plain body ✓',
        severityNumber: 13 /* WARN */,
        severityText: 'WARN',
        attributes,
      },
      {
        ...base,
        hrTime: [1_795_000_002, 0],
        hrTimeObserved: [1_795_000_002, 1],
        body: { nested: { a: 1 }, list: [1, 'two'] },
        attributes: { 'log.record.uid': 'e1' },
        eventName: 'my.event',
      },
    ] as unknown as Parameters<typeof ProtobufLogsSerializer.serializeRequest>[0];

    const fromProtobuf = decodeToJson('logs', ProtobufLogsSerializer.serializeRequest(records)!);
    const fromJson = JSON.parse(Buffer.from(JsonLogsSerializer.serializeRequest(records)!).toString('utf8'));
    expect(canonical(fromProtobuf)).toEqual(canonical(fromJson));
    const logRecords = (fromProtobuf as any).resourceLogs[0].scopeLogs[0].logRecords;
    expect(logRecords.map((r: any) => [r.timeUnixNano, r.eventName ?? ''])).toEqual([
      ['1795000000123456789', ''],
      ['1795000002000000000', 'my.event'],
    ]);
  });

  it('decodes otlp-transformer protobuf spans (events, links, status, parents, trace state) to exactly its OTLP/JSON, ids in hex', () => {
    const spans = sdkSpans([...lambdaTrace(), ecsSpan()]);
    const fromProtobuf = decodeToJson('traces', ProtobufTraceSerializer.serializeRequest(spans)!);
    const fromJson = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString('utf8'));
    expect(canonical(fromProtobuf)).toEqual(canonical(fromJson));
    const all = (fromProtobuf as any).resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans));
    expect(all.map((s: any) => [s.spanId, s.parentSpanId ?? '', s.kind, s.startTimeUnixNano])).toEqual([
      ['a1b2c3d4e5f60718', '', 2, '1795000000123456789'],
      ['b2c3d4e5f6071829', 'a1b2c3d4e5f60718', 3, '1795000000127456789'],
      ['b7ad6b7169203331', '00f067aa0ba902b7', 2, '1795000001123456789'],
    ]);
  });
});
