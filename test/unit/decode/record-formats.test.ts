import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  LOG_FORMATS,
  METRIC_FORMATS,
  RECORD_FORMATS,
  detectLogFormat,
  detectMetricFormat,
  formatDescription,
  formatsTable,
} from '../../../src/decode/formats.ts';
import { RecordError } from '../../../src/decode/record-error.ts';
import { debugLines } from '../../../src/export/debug.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { otlpTypes } from '../../../src/otlp/schema.ts';
import { RECORD_CODECS } from '../../../src/pipeline/record-codecs.ts';
import { recordContext } from '../../helpers/record-context.ts';
import { lambdaTrace, spansMessage } from '../../helpers/span-fixtures.ts';
import { FLOW_LOG_LINES, lengthPrefixed, metricStreamRequestV07, sampleDatapoints, wafLog } from '../../helpers/cloudwatch-fixtures.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const OTEL = join(ROOT, 'test/fixtures/conformance/otelcol-awsfirehose/receiver/awsfirehosereceiver/internal/unmarshaler');
const otel10 = lengthPrefixed(
  otlpTypes.ExportMetricsServiceRequest.encode(
    otlpTypes.ExportMetricsServiceRequest.fromObject(parseYaml(readFileSync(join(OTEL, 'otlpmetricstream/testdata/single_record.yaml'), 'utf8'))),
  ).finish(),
);
const points = sampleDatapoints(3);

/** A real record of every registered format, with what it decodes to: a format added without one fails here. */
const FIXTURES: Record<string, { record: Buffer; items: number; check: (line: Record<string, unknown>) => void }> = {
  'metrics/auto': { record: otel10, items: 1, check: (p) => expect(p).toMatchObject({ metric: 'TestMetric' }) },
  'metrics/opentelemetry1.0': { record: otel10, items: 1, check: (p) => expect(p).toMatchObject({ metric: 'TestMetric' }) },
  'metrics/json': {
    record: readFileSync(join(OTEL, 'cwmetricstream/testdata/single_record')),
    items: 1,
    check: (p) => expect(p).toMatchObject({ metric: 'amazonaws.com/AWS/EC2/DiskWriteOps', attributes: { InstanceId: 'i-123456789012' } }),
  },
  'metrics/opentelemetry0.7': {
    record: lengthPrefixed(metricStreamRequestV07({ account: '123456789012', region: 'eu-west-1', streamName: 'legacy' }, points)),
    items: 3,
    check: (p) => expect(p.attributes).toMatchObject({ Namespace: 'AWS/EC2' }),
  },
  'logs/auto': {
    record: Buffer.from(`${FLOW_LOG_LINES.accepted}\nplain line\n`),
    items: 2,
    check: (l) => expect(l).toMatchObject({ body: FLOW_LOG_LINES.accepted }),
  },
  'logs/aws-spans': {
    record: gzipSync(JSON.stringify(spansMessage(lambdaTrace()))),
    items: 2,
    check: (s) => expect(s).toMatchObject({ signal: 'traces', name: 'checkout', kind: 2, traceId: '6739a8f0c1d2e3f4a5b6c7d8e9f00112' }),
  },
  'logs/cloudwatch-logs': {
    record: gzipSync(readFileSync(join(OTEL, 'cwlog/testdata/single_record'))),
    items: 2,
    check: (l) => expect(l).toMatchObject({ resource: { 'aws.log.group.names': ['test'] } }),
  },
  'logs/lines': { record: Buffer.from('first\nsecond\n'), items: 2, check: (l) => expect(l).toMatchObject({ body: 'first' }) },
  'logs/record': { record: Buffer.from('first\nsecond\n'), items: 1, check: (l) => expect(l).toMatchObject({ body: 'first\nsecond' }) },
  'logs/vpc-flow-logs': {
    record: Buffer.from(`${FLOW_LOG_LINES.rejected}\n`),
    items: 1,
    check: (l) => expect(l.attributes).toMatchObject({ 'aws.vpc.flow_log.action': 'REJECT' }),
  },
  'logs/waf': {
    record: Buffer.from(`${JSON.stringify(wafLog())}\n`),
    items: 1,
    check: (l) => expect(l.attributes).toMatchObject({ 'aws.waf.action': 'BLOCK' }),
  },
};

async function decode(signal: 'metrics' | 'logs', format: string, record: Buffer) {
  // Spans on the logs route go to the request's traces batch: their lines follow the log records'.
  const spans = new OtlpBatch();
  const ctx = recordContext(signal === 'metrics' ? { metricFormat: format as never } : { logFormat: format as never, spans });
  const batch = new OtlpBatch();
  for (let next = await RECORD_CODECS[signal](record.toString('base64'), batch, ctx); next; next = next());
  const lines = [...debugLines({ signal, payload: batch.take().payload })];
  if (spans.items > 0) lines.push(...debugLines({ signal: 'traces', payload: spans.take().payload }));
  return lines as Array<Record<string, unknown>>;
}

describe('the record format registry', () => {
  it.each(RECORD_FORMATS.map((f) => [`${f.signal}/${f.name}`, f] as const))('decodes a real %s record when the route names the format', async (key, format) => {
    const fixture = FIXTURES[key];
    expect(fixture, `add a fixture record for ${key} to FIXTURES`).toBeDefined();
    const lines = await decode(format.signal, format.name, fixture!.record);
    expect(lines).toHaveLength(fixture!.items);
    fixture!.check(lines[0]!);
  });

  it("has auto read each detecting format's record as that format, in the registry's order, and the rest as the signal's fallback", () => {
    const detected = (key: string) => (key.startsWith('metrics/') ? detectMetricFormat : detectLogFormat)(Buffer.from(FIXTURES[key]!.record)).name;
    expect(detected('metrics/json')).toBe('json');
    expect(detected('metrics/opentelemetry0.7')).toBe('opentelemetry0.7');
    expect(detected('metrics/opentelemetry1.0')).toBe('auto');
    expect(detected('logs/waf')).toBe('auto');
    expect(detectLogFormat(readFileSync(join(OTEL, 'cwlog/testdata/single_record'))).name).toBe('cloudwatch-logs');
    expect(detectLogFormat(Buffer.from(JSON.stringify(spansMessage(lambdaTrace())))).name).toBe('aws-spans');
    // Detection order: metric-stream JSON is tried before 0.7.0, whose check walks the record as protobuf.
    expect(RECORD_FORMATS.filter((f) => f.detect).map((f) => `${f.signal}/${f.name}`)).toEqual([
      'metrics/json',
      'metrics/opentelemetry0.7',
      'logs/aws-spans',
      'logs/cloudwatch-logs',
    ]);
  });

  it('gives the same data points for a record detected as for a record named', async () => {
    for (const key of ['metrics/json', 'metrics/opentelemetry0.7']) {
      expect(await decode('metrics', 'auto', FIXTURES[key]!.record)).toEqual(await decode('metrics', key.slice('metrics/'.length), FIXTURES[key]!.record));
    }
  });

  it('still refuses a metric stream record on the logs route, and a record of another format on a route told opentelemetry1.0', async () => {
    await expect(decode('logs', 'auto', otel10)).rejects.toThrow(/send it to \/firehose\/metrics/);
    await expect(decode('logs', 'lines', otel10)).resolves.toHaveLength(1);
    await expect(decode('metrics', 'opentelemetry1.0', FIXTURES['metrics/json']!.record)).rejects.toThrow(RecordError);
  });

  it('names the formats the settings and ?format= accept, and says what each expects', () => {
    expect(METRIC_FORMATS).toEqual(['auto', 'opentelemetry1.0', 'json', 'opentelemetry0.7']);
    expect(LOG_FORMATS).toEqual(['auto', 'aws-spans', 'cloudwatch-logs', 'lines', 'record', 'vpc-flow-logs', 'waf']);
    expect(formatDescription('logs', 'cloudwatch-logs')).toBe('CloudWatch Logs subscription');
    expect(formatDescription('metrics', 'auto')).toBe('CloudWatch Metric Streams (OpenTelemetry 1.0, 0.7.0 or JSON)');
  });

  it("is what the chart's values.schema.json accepts as metricsFormat and logsFormat", () => {
    const found: Record<string, unknown> = {};
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if ((k === 'metricsFormat' || k === 'logsFormat') && v && typeof v === 'object' && 'enum' in v) found[k] = v.enum;
        walk(v);
      }
    };
    walk(JSON.parse(readFileSync(join(ROOT, 'helm/firetap/values.schema.json'), 'utf8')));
    expect(found, "helm/firetap/values.schema.json: set the enums to the registry's names (src/decode/formats.ts)").toEqual({
      metricsFormat: [...METRIC_FORMATS],
      logsFormat: [...LOG_FORMATS],
    });
  });

  it('is the table docs/formats.md shows between its formats markers', () => {
    const path = join(ROOT, 'docs/formats.md');
    expect(existsSync(path), 'create docs/formats.md holding <!-- formats:begin -->, formatsTable() and <!-- formats:end -->').toBe(true);
    const text = readFileSync(path, 'utf8');
    const between = /<!-- formats:begin -->\n([\s\S]*?)\n<!-- formats:end -->/.exec(text)?.[1];
    expect(between, 'docs/formats.md: paste formatsTable() (src/decode/formats.ts) between <!-- formats:begin --> and <!-- formats:end -->').toBe(
      formatsTable(),
    );
  });
});
