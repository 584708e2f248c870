import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { appendMetricStreamRecord } from '../../../src/decode/metric-stream.ts';
import { EnrichmentStats } from '../../../src/enrich/enrichment-stats.ts';
import { buildScopeIndex, lookupMetric, type DiscoveredResource, type ScopeIndex } from '../../../src/enrich/snapshot.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { decodeToJson, otlpTypes } from '../../../src/otlp/schema.ts';
import { lengthPrefixed, metricStreamRequest, sampleDatapoints, type CloudWatchDatapoint } from '../../helpers/cloudwatch-fixtures.ts';

/**
 * The wire rewrite with tags (the hot path: lookups cached per snapshot, Dimensions checked once, a resource's
 * dimensions and attributes copied as first written) against the simple path it replaces: decode the frame
 * into objects, spread each data point's Dimensions into attributes (renaming one named like another
 * attribute), append the attributes of the resource its namespace and dimensions name, compare. Every record
 * goes through twice in one snapshot, so that the second pass takes the cached paths.
 */
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const id = { account: ACCOUNT, region: REGION, streamName: 'equivalence' };
const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;

const resources: DiscoveredResource[] = [
  { arn: arn('ec2', 'instance/i-0abc1234def567890'), tags: { team: 'payments', env: 'prod' }, attributes: { 'host.type': 'm6i.large' }, sources: ['ec2'] },
  { arn: arn('rds', 'db:orders'), tags: { team: 'orders' }, attributes: {}, sources: ['rds'] },
  { arn: arn('lambda', 'function:checkout'), tags: { team: 'checkout', 'cost-center': '4711' }, attributes: {}, sources: ['lambda'] },
  { arn: arn('elasticloadbalancing', 'targetgroup/web/73e2d6bc24d8a067'), tags: { team: 'web' }, attributes: {}, sources: ['tagging'] },
  // AWS/SQS orders-dlq and AWS/DynamoDB sessions are not known: their data points pass unchanged.
];
const scope: ScopeIndex = buildScopeIndex(ACCOUNT, REGION, resources, { include: [], exclude: [] });

function rewrite(records: Uint8Array[]): unknown[] {
  const enrichment = { scope: (account: string, region: string) => (account === ACCOUNT && region === REGION ? scope : undefined) };
  return records.map((record) => {
    const batch = new OtlpBatch();
    appendMetricStreamRecord(record, batch, { resourceAttributes: [], enrichment, stats: new EnrichmentStats() });
    return decodeToJson('metrics', batch.take().payload);
  });
}

type KV = { key: string; value: Record<string, unknown> };

/** The simple path, on decoded objects. */
function expected(frames: Uint8Array[]): unknown {
  const resourceMetrics = frames.flatMap((f) => (decodeToJson('metrics', f) as { resourceMetrics: unknown[] }).resourceMetrics) as Array<{
    scopeMetrics: Array<{ metrics: Array<Record<string, { dataPoints: Array<{ attributes?: KV[] }> }>> }>;
  }>;
  for (const rm of resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        const data = m.summary ?? m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram;
        for (const dp of data?.dataPoints ?? []) {
          const attributes = dp.attributes ?? [];
          const dimsAt = attributes.findIndex((a) => a.key === 'Dimensions' && a.value.kvlistValue);
          const others = attributes.filter((_, i) => i !== dimsAt);
          const dims = dimsAt < 0 ? [] : ((attributes[dimsAt]!.value.kvlistValue as { values?: KV[] }).values ?? []);
          const renamed = dims.map((d) => (others.some((o) => o.key === d.key) ? { ...d, key: `Dimensions.${d.key}` } : d));
          const namespace = others.find((a) => a.key === 'Namespace')?.value.stringValue as string | undefined;
          const resource =
            namespace === undefined ? undefined : lookupMetric(scope, namespace, new Map(dims.map((d) => [d.key, String(d.value.stringValue ?? '')])));
          const added = resource ? Object.entries(resource.added).map(([key, value]) => ({ key, value: { stringValue: value } })) : [];
          const all = [...others, ...renamed, ...added];
          if (all.length > 0) dp.attributes = all;
        }
      }
    }
  }
  return { resourceMetrics };
}

const point = (p: Partial<CloudWatchDatapoint> & Pick<CloudWatchDatapoint, 'namespace' | 'dimensions'>): CloudWatchDatapoint => ({
  metricName: 'M',
  timeMs: 1_795_000_000_000,
  count: 1,
  sum: 2,
  min: 0.5,
  max: 1.5,
  ...p,
});

describe('the wire rewrite with tags', () => {
  it('gives what decoding, spreading the dimensions and appending the resource attributes gives, on first sight and from the caches', () => {
    const frames = [
      metricStreamRequest(id, sampleDatapoints(60)),
      metricStreamRequest(id, [
        // A dimension named like an attribute (renamed), one that is not, an unknown instance, no dimensions at all.
        point({ namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimensions: { InstanceId: 'i-0abc1234def567890', MetricName: 'x' } }),
        point({ namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimensions: { InstanceId: 'i-0abc1234def567890', MetricName: 'x' } }),
        point({ namespace: 'AWS/EC2', dimensions: { InstanceId: 'i-0ffffffffffffffff' } }),
        point({ namespace: 'AWS/EC2', dimensions: {} }),
        point({ namespace: 'AWS/Lambda', dimensions: { FunctionName: 'checkout' } }),
      ]),
    ];
    const records = [lengthPrefixed(frames[0]!, frames[1]!), lengthPrefixed(frames[1]!), lengthPrefixed(frames[0]!)];
    // Twice over: the second time every lookup is found again and takes the kept bytes.
    const [first, second, third] = [rewrite(records), rewrite(records), rewrite(records)];
    for (const out of [first, second, third]) {
      expect(out[0]).toEqual(expected([frames[0]!, frames[1]!]));
      expect(out[1]).toEqual(expected([frames[1]!]));
      expect(out[2]).toEqual(expected([frames[0]!]));
    }
    // It did tag: the EC2 instance's data points carry its tags and type.
    expect(JSON.stringify(first[1])).toContain('aws.tag.team');
    expect(JSON.stringify(first[1])).toContain('m6i.large');
  });

  it('gives the same on the OpenTelemetry Collector conformance frames (of an account without a snapshot: untagged)', () => {
    const OTEL = resolve(
      import.meta.dirname,
      '../../fixtures/conformance/otelcol-awsfirehose/receiver/awsfirehosereceiver/internal/unmarshaler/otlpmetricstream/testdata',
    );
    for (const file of ['single_record.yaml', 'multiple_records.yaml']) {
      const object = parseYaml(readFileSync(join(OTEL, file), 'utf8'));
      const frame = otlpTypes.ExportMetricsServiceRequest.encode(otlpTypes.ExportMetricsServiceRequest.fromObject(object)).finish();
      for (let pass = 0; pass < 2; pass++) expect(rewrite([lengthPrefixed(frame)])[0]).toEqual(expected([frame]));
    }
  });
});
