import { describe, expect, it } from 'vitest';
import { appendMetricStreamRecord } from '../../../src/decode/metric-stream.ts';
import { EnrichmentStats } from '../../../src/enrich/enrichment-stats.ts';
import { buildScopeIndex, type DiscoveredResource } from '../../../src/enrich/snapshot.ts';
import { debugLines } from '../../../src/export/debug.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { decodeToJson, otlpTypes } from '../../../src/otlp/schema.ts';
import { encodedAttribute } from '../../../src/otlp/wire.ts';
import { lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../../helpers/cloudwatch-fixtures.ts';

const A = '123456789012';
const arn = (service: string, rest: string) => `arn:aws:${service}:eu-west-1:${A}:${rest}`;
const resources: DiscoveredResource[] = [
  { arn: arn('ec2', 'instance/i-0abc1234def567890'), tags: { team: 'payments' }, attributes: { 'host.type': 'm6i.large' }, sources: ['ec2'] },
  { arn: arn('rds', 'db:orders'), tags: { team: 'orders' }, attributes: {}, sources: ['tagging'] },
];
const index = buildScopeIndex(A, 'eu-west-1', resources, { include: [], exclude: [] });
const enrichment = { scope: (account: string, region: string) => (account === A && region === 'eu-west-1' ? index : undefined) };
const common = [encodedAttribute('deployment.environment', 'prod')];

function rewrite(record: Uint8Array, attributesOn: 'datapoint' | 'resource') {
  const batch = new OtlpBatch();
  appendMetricStreamRecord(record, batch, { resourceAttributes: common, enrichment, stats: new EnrichmentStats(), attributesOn });
  const { payload, items } = batch.take();
  return { payload, items, lines: [...debugLines({ signal: 'metrics', payload })] };
}

/** A data point with every attribute it carries, its own and its resource's. */
const flat = (l: Record<string, any>) => ({ metric: l.metric, time: l.timeUnixNano, attributes: { ...l.resource, ...l.attributes } });
const byMetric = (a: { metric: string }, b: { metric: string }) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0);

describe('resource attributes on an OTLP Resource of their own (FIRETAP_ENRICHMENT_ATTRIBUTES_ON=resource)', () => {
  const record = lengthPrefixed(metricStreamRequest({ account: A, region: 'eu-west-1', streamName: 's' }, sampleDatapoints(12)));

  it('groups the data points of each known resource under a Resource holding its id, tags and attributes once', () => {
    const { payload, items, lines } = rewrite(record, 'resource');
    expect(items).toBe(12);
    const resourcesOut = (decodeToJson('metrics', payload) as any).resourceMetrics as Array<Record<string, any>>;
    expect(resourcesOut).toHaveLength(3);
    const ids = lines.map((l) => l.resource['cloud.resource_id'] ?? null);
    expect(new Set(ids)).toEqual(new Set([null, arn('ec2', 'instance/i-0abc1234def567890'), arn('rds', 'db:orders')]));
    const ec2 = lines.filter((l) => l.attributes.InstanceId);
    expect(ec2).toHaveLength(2);
    for (const l of ec2) {
      expect(l.resource).toMatchObject({
        'cloud.account.id': A,
        'cloud.region': 'eu-west-1',
        'deployment.environment': 'prod',
        'aws.tag.team': 'payments',
        'host.type': 'm6i.large',
      });
      expect(Object.keys(l.attributes).filter((k) => k.startsWith('aws.tag.') || k === 'cloud.resource_id')).toEqual([]);
    }
    const unknown = lines.filter((l) => !l.resource['cloud.resource_id']);
    expect(unknown).toHaveLength(8);
  });

  it('carries exactly what the data point mode carries, only placed on the resource, in fewer bytes once a resource has a few points', () => {
    const many = lengthPrefixed(metricStreamRequest({ account: A, region: 'eu-west-1', streamName: 's' }, sampleDatapoints(60)));
    const grouped = rewrite(many, 'resource');
    const perPoint = rewrite(many, 'datapoint');
    expect(grouped.lines.map(flat).sort(byMetric)).toEqual(perPoint.lines.map(flat).sort(byMetric));
    expect(grouped.payload.length).toBeLessThan(perPoint.payload.length);
  });

  it('leaves a metric whose data points belong to different resources with the attributes on its points', () => {
    const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
    const dp = (dims: Record<string, string>, ns: string) => ({
      timeUnixNano: '1795000000000000000',
      count: '1',
      sum: 1,
      attributes: [
        str('Namespace', ns),
        str('MetricName', 'M'),
        { key: 'Dimensions', value: { kvlistValue: { values: Object.entries(dims).map(([k, v]) => str(k, v)) } } },
      ],
    });
    const T = otlpTypes.ExportMetricsServiceRequest;
    const frame = T.encode(
      T.fromObject({
        resourceMetrics: [
          {
            resource: { attributes: [str('cloud.account.id', A), str('cloud.region', 'eu-west-1')] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'mixed',
                    summary: { dataPoints: [dp({ InstanceId: 'i-0abc1234def567890' }, 'AWS/EC2'), dp({ DBInstanceIdentifier: 'orders' }, 'AWS/RDS')] },
                  },
                ],
              },
            ],
          },
        ],
      }),
    ).finish();
    const { lines } = rewrite(lengthPrefixed(frame), 'resource');
    expect(lines.map((l) => [l.resource['cloud.resource_id'], l.attributes['cloud.resource_id']])).toEqual([
      [undefined, arn('ec2', 'instance/i-0abc1234def567890')],
      [undefined, arn('rds', 'db:orders')],
    ]);
  });

  it('rewrites as usual where the cache knows nothing of the account', () => {
    const other = lengthPrefixed(metricStreamRequest({ account: '999999999999', region: 'eu-west-1', streamName: 's' }, sampleDatapoints(4)));
    expect(rewrite(other, 'resource').payload).toEqual(rewrite(other, 'datapoint').payload);
  });
});
