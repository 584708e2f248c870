import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot } from '../../../src/enrich/snapshot-codec.ts';
import { buildScopeIndex, lookupMetric, scopeKey, tagFilterOf, type DiscoveredResource } from '../../../src/enrich/snapshot.ts';

const resources: DiscoveredResource[] = [
  {
    arn: 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0aaaaaaaaaaaaaaa1',
    tags: { team: 'fleet', secret: 'x' },
    attributes: { 'host.type': 'm6i.large' },
    sources: ['tagging:GetResources'],
  },
  { arn: 'arn:aws:rds:eu-west-1:123456789012:db:orders', tags: { team: 'data' }, attributes: {}, sources: ['rds:DescribeDBInstances'] },
];

describe('the published tag snapshot', () => {
  it("comes back as the leader's index: the same resources, lookups, fetch time and staleness, with the replica's own tag filter", async () => {
    const scope = {
      ...buildScopeIndex('123456789012', 'eu-west-1', resources, tagFilterOf({ tagKeys: [], excludeTagKeys: [] }), 1_795_000_000_000),
      stale: true,
    };
    const data = await encodeSnapshot(new Map([[scopeKey('123456789012', 'eu-west-1'), scope]]));
    const loaded = await decodeSnapshot(data, tagFilterOf({ tagKeys: [], excludeTagKeys: ['secret'] }));
    const back = loaded.get(scopeKey('123456789012', 'eu-west-1'))!;
    expect([back.fetchedAt, back.stale, back.byArn.size]).toEqual([1_795_000_000_000, true, 2]);
    const hit = lookupMetric(back, 'AWS/EC2', new Map([['InstanceId', 'i-0aaaaaaaaaaaaaaa1']]));
    expect(hit?.added).toEqual({ 'cloud.resource_id': resources[0]!.arn, 'host.type': 'm6i.large', 'aws.tag.team': 'fleet' });
  });

  it('is refused, naming both formats, when another firetap version published another layout', async () => {
    await expect(decodeSnapshot(gzipSync(JSON.stringify({ format: 2, scopes: [] })), tagFilterOf({ tagKeys: [], excludeTagKeys: [] }))).rejects.toThrow(
      'tag snapshot of format 2, this version reads format 1',
    );
  });
});
