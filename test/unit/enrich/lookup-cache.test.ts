import { describe, expect, it } from 'vitest';
import { appendMetricStreamRecord } from '../../../src/decode/metric-stream.ts';
import { EnrichmentStats } from '../../../src/enrich/enrichment-stats.ts';
import { LookupCache, lookupCacheOf, lookupKeyHash } from '../../../src/enrich/lookup-cache.ts';
import { buildScopeIndex, type DiscoveredResource, type ScopeIndex } from '../../../src/enrich/snapshot.ts';
import { debugLines } from '../../../src/export/debug.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { decodeToJson, otlpTypes } from '../../../src/otlp/schema.ts';
import { Writer } from '../../../src/otlp/wire.ts';
import { lengthPrefixed, metricStreamRequest, type CloudWatchDatapoint } from '../../helpers/cloudwatch-fixtures.ts';

/**
 * The tag cache's lookups on the request path: each distinct (namespace, dimensions) is resolved once per
 * snapshot and found again by its bytes in later requests — a fleet larger than one request's data points
 * must not be resolved again in every request — without ever serving one snapshot's answer for another.
 */
const A = '123456789012';
const REGION = 'eu-west-1';
const arn = (rest: string) => `arn:aws:ec2:${REGION}:${A}:${rest}`;
const instance = (n: number) => `i-0${n.toString(16).padStart(16, '0')}`;

function scopeOf(team: string, count = 3): ScopeIndex {
  const resources: DiscoveredResource[] = Array.from({ length: count }, (_, n) => ({
    arn: arn(`instance/${instance(n)}`),
    tags: { team },
    attributes: {},
    sources: ['ec2'],
  }));
  return buildScopeIndex(A, REGION, resources, { include: [], exclude: [] });
}

const point = (id: string, metricName = 'CPUUtilization'): CloudWatchDatapoint => ({
  namespace: 'AWS/EC2',
  metricName,
  dimensions: { InstanceId: id },
  timeMs: 1_795_000_000_000,
  count: 1,
  sum: 1,
  min: 1,
  max: 1,
});

/** One request's worth of data points through the rewrite: the team tag of each, and the request's settled counts. */
function request(scope: ScopeIndex, points: CloudWatchDatapoint[], stats = new EnrichmentStats()) {
  const batch = new OtlpBatch();
  const enrichment = { scope: (account: string, region: string) => (account === A && region === REGION ? scope : undefined) };
  appendMetricStreamRecord(lengthPrefixed(metricStreamRequest({ account: A, region: REGION, streamName: 's' }, points)), batch, {
    resourceAttributes: [],
    enrichment,
    stats,
  });
  const teams = [...debugLines({ signal: 'metrics', payload: batch.take().payload })].map((l) => l.attributes['aws.tag.team'] ?? null);
  return { teams, stats };
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

describe('the lookup cache of a snapshot', () => {
  it('resolves each resource once per snapshot, and later requests find it again by its bytes', () => {
    const scope = scopeOf('payments');
    const points = [point(instance(0)), point(instance(1)), point(instance(0), 'NetworkIn'), point('i-0ffffffffffffffff')];
    for (let i = 0; i < 2; i++) {
      const { teams, stats } = request(scope, points);
      expect(teams).toEqual(['payments', 'payments', 'payments', null]);
      // Resolved in the first request; the second found the same three lookups.
      expect(lookupCacheOf(scope).size).toBe(3);
      stats.settle();
      expect(Object.fromEntries(stats.hits)).toEqual({ 'AWS/EC2': 3 });
      expect(Object.fromEntries(stats.misses)).toEqual({ 'AWS/EC2': 1 });
    }
  });

  it('never answers from an earlier snapshot: a refresh with changed tags is seen by the next data point', () => {
    const before = scopeOf('payments');
    expect(request(before, [point(instance(1))]).teams).toEqual(['payments']);
    const after = scopeOf('renamed');
    expect(request(after, [point(instance(1))]).teams).toEqual(['renamed']);
    expect(lookupCacheOf(after)).not.toBe(lookupCacheOf(before));
  });

  it('counts every data point exactly once when requests in flight settle in any order', () => {
    const scope = scopeOf('payments');
    const a = new EnrichmentStats();
    const b = new EnrichmentStats();
    request(scope, [point(instance(0)), point(instance(2)), point('i-0eeeeeeeeeeeeeeee')], a);
    request(scope, [point(instance(0)), point(instance(0))], b);
    b.settle();
    a.settle();
    a.settle();
    expect(total(a.hits) + total(b.hits)).toBe(4);
    expect(total(a.misses) + total(b.misses)).toBe(1);
  });

  it(`holds at most ${LookupCache.MAX_LOOKUPS} lookups, starting again when full, and answers as before`, () => {
    const scope = scopeOf('payments', 2);
    const distinct = Array.from({ length: LookupCache.MAX_LOOKUPS + 10 }, (_, n) => point(`i-1${n.toString(16).padStart(16, '0')}`));
    const { teams, stats } = request(scope, [...distinct, point(instance(1))]);
    expect(lookupCacheOf(scope).size).toBe(11);
    expect(teams.at(-1)).toBe('payments');
    expect(teams.filter((t) => t !== null)).toHaveLength(1);
    stats.settle();
    expect(total(stats.misses)).toBe(distinct.length);
    expect(request(scope, [point(instance(1))]).teams).toEqual(['payments']);
  });

  it("writes a resource's attributes under each data point type's own attributes field, whichever type came first", () => {
    const scope = scopeOf('payments');
    const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
    const attributes = [str('Namespace', 'AWS/EC2'), { key: 'Dimensions', value: { kvlistValue: { values: [str('InstanceId', instance(0))] } } }];
    const T = otlpTypes.ExportMetricsServiceRequest;
    const frame = T.encode(
      T.fromObject({
        resourceMetrics: [
          {
            resource: { attributes: [str('cloud.account.id', A), str('cloud.region', REGION)] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'h',
                    histogram: { aggregationTemporality: 1, dataPoints: [{ count: '3', bucketCounts: ['1', '2'], explicitBounds: [5], attributes }] },
                  },
                  { name: 'e', exponentialHistogram: { aggregationTemporality: 1, dataPoints: [{ count: '2', scale: 1, attributes }] } },
                  { name: 'g', gauge: { dataPoints: [{ asDouble: 1.5, attributes }] } },
                  { name: 'h2', histogram: { aggregationTemporality: 1, dataPoints: [{ count: '1', bucketCounts: ['1'], attributes }] } },
                ],
              },
            ],
          },
        ],
      }),
    ).finish();
    const batch = new OtlpBatch();
    const enrichment = { scope: (account: string, region: string) => (account === A && region === REGION ? scope : undefined) };
    appendMetricStreamRecord(lengthPrefixed(frame), batch, { resourceAttributes: [], enrichment, stats: new EnrichmentStats() });
    const metrics = (decodeToJson('metrics', batch.take().payload) as any).resourceMetrics[0].scopeMetrics[0].metrics as Array<Record<string, any>>;
    expect(metrics.map((m) => m.name)).toEqual(['h', 'e', 'g', 'h2']);
    for (const m of metrics) {
      const point = (m.histogram ?? m.exponentialHistogram ?? m.gauge).dataPoints[0];
      expect(Object.fromEntries(point.attributes.map((a: any) => [a.key, a.value.stringValue]))).toMatchObject({
        InstanceId: instance(0),
        'aws.tag.team': 'payments',
        'cloud.resource_id': arn(`instance/${instance(0)}`),
      });
    }
    expect(metrics[0]!.histogram.dataPoints[0]).toMatchObject({ count: '3', bucketCounts: ['1', '2'], explicitBounds: [5] });
    expect(metrics[1]!.exponentialHistogram.dataPoints[0]).toMatchObject({ count: '2', scale: 1 });
  });

  it('bounds its bytes too: fields that no longer fit are not kept (the writer falls back to the resource), and a key that no longer fits starts the cache again', () => {
    const MiB = 1024 * 1024;
    const cache = new LookupCache();
    const resource = scopeOf('payments').byArn.values().next().value!;
    const tally = cache.tally('AWS/EC2', true);
    const key = Buffer.from('AWS/EC2{InstanceId}');
    const e = cache.add(7, key, 0, 7, 7, key.length, resource, tally);
    expect(cache.find(7, key, 0, 7, 7, key.length)).toBe(e);
    cache.setFields(e, 58, Buffer.alloc(64 * MiB - key.length - 4, 1));
    expect(cache.fieldsTag[e]).toBe(58);
    cache.setFields(e, 74, Buffer.alloc(8, 2)); // over the 64 MiB bound: not kept
    expect(cache.fieldsTag[e]).toBe(58);
    const other = Buffer.from('AWS/RDS{DBInstanceIdentifier}');
    const e2 = cache.add(9, other, 0, 7, 7, other.length, undefined, cache.tally('AWS/RDS', false));
    expect(cache.size).toBe(1);
    expect(cache.find(7, key, 0, 7, 7, key.length)).toBe(-1);
    expect(cache.find(9, other, 0, 7, 7, other.length)).toBe(e2);
  });

  it('keeps the fields of every entry, byte for byte, as the arena grows, and its views follow the arena rather than keep an old one alive', () => {
    const cache = new LookupCache();
    const resource = scopeOf('payments').byArn.values().next().value!;
    const tally = cache.tally('AWS/EC2', true);
    const entries: Array<{ e: number; fields: Buffer; dimensions: Buffer }> = [];
    for (let n = 0; n < 400; n++) {
      const key = Buffer.from(`AWS/EC2${instance(n)}`);
      const e = cache.add(lookupKeyHash(key, 0, 7, 7, key.length), key, 0, 7, 7, key.length, resource, tally);
      const fields = Buffer.alloc(300 + (n % 7), n & 0xff);
      const dimensions = Buffer.alloc(40 + (n % 5), (n + 1) & 0xff);
      // The dimensions kept with the fields at once (the first data point of a lookup), later, or not at all.
      if (n % 4 === 0) cache.setFields(e, 58, fields, dimensions);
      else cache.setFields(e, 58, fields);
      if (n % 4 === 2) cache.setFields(e, 58, cache.fields[e]!, dimensions);
      entries.push({ e, fields, dimensions });
    }
    expect(cache.arena.length).toBeGreaterThan(64 * 1024); // it grew from 64 KiB
    for (const { e, fields, dimensions } of entries) {
      expect(Buffer.from(cache.fields[e]!)).toEqual(fields);
      expect(cache.fields[e]!.buffer).toBe(cache.arena.buffer);
      const both = cache.dimensionsAndFields[e];
      if (e % 2 === 1) expect(both).toBeUndefined();
      else {
        expect(Buffer.from(both!)).toEqual(Buffer.concat([dimensions, fields]));
        expect(both!.buffer).toBe(cache.arena.buffer);
      }
    }
    // Fields written again for another attributes tag: the dimensions kept with the old ones no longer apply.
    cache.setFields(entries[0]!.e, 74, Buffer.alloc(10, 9));
    expect(cache.dimensionsAndFields[entries[0]!.e]).toBeUndefined();
  });

  it('finds a key by its bytes whatever its length and alignment, and no key that differs from it in one byte', () => {
    const cache = new LookupCache();
    const tally = cache.tally('AWS/ApplicationELB', false);
    const base = Buffer.from('AWS/ApplicationELB\n\x1a\n\x0cLoadBalancer\x12\napp/web-0001/50dc6c495c0c9188');
    // Every prefix of `base` (the namespace the first 18 bytes at most), and each with its last byte changed.
    const keys: Buffer[] = [];
    for (let length = 1; length <= base.length; length++) {
      keys.push(base.subarray(0, length));
      const changed = Buffer.from(base.subarray(0, length));
      changed[length - 1] = changed[length - 1]! ^ 0x20;
      keys.push(changed);
    }
    /** The key at `offset` in a buffer of its own: the hash and the compare read words at every alignment. */
    const lookup = (key: Buffer, offset: number) => {
      const buf = Buffer.concat([Buffer.alloc(offset), key]);
      const ns = offset + Math.min(18, key.length);
      return { buf, ns, end: buf.length, hash: lookupKeyHash(buf, offset, ns, ns, buf.length) };
    };
    const entries = keys.map((key, i) => {
      const { buf, ns, end, hash } = lookup(key, i % 4);
      expect(cache.find(hash, buf, i % 4, ns, ns, end)).toBe(-1);
      return cache.add(hash, buf, i % 4, ns, ns, end, undefined, tally);
    });
    keys.forEach((key, i) => {
      for (const offset of [0, 1, 2, 3]) {
        const { buf, ns, end, hash } = lookup(key, offset);
        expect(cache.find(hash, buf, offset, ns, ns, end)).toBe(entries[i]);
      }
    });
    // With every hash the same, the bytes alone tell the keys apart.
    const colliding = new LookupCache();
    const same = keys.map((key, i) => {
      const { buf, ns, end } = lookup(key, i % 4);
      return colliding.add(12345, buf, i % 4, ns, ns, end, undefined, tally);
    });
    keys.forEach((key, i) => {
      const { buf, ns, end } = lookup(key, 3 - (i % 4));
      expect(colliding.find(12345, buf, 3 - (i % 4), ns, ns, end)).toBe(same[i]);
    });
  });

  it('tells apart keys of the same bytes split differently between Namespace and Dimensions', () => {
    const cache = new LookupCache();
    const tally = cache.tally('AWS/EC2', true);
    const bytes = Buffer.from('AWS/EC2\n\x1e\n\nInstanceId\x12\x15\n\x13i-0abc1234def567890');
    const resource = scopeOf('payments').byArn.values().next().value!;
    // Namespace "AWS/EC2" with its Dimensions, and Namespace "AWS/EC2\n" with what follows: the same key bytes.
    const e = cache.add(lookupKeyHash(bytes, 0, 7, 7, bytes.length), bytes, 0, 7, 7, bytes.length, resource, tally);
    for (const hash of [lookupKeyHash(bytes, 0, 8, 8, bytes.length), lookupKeyHash(bytes, 0, 7, 7, bytes.length)]) {
      expect(cache.find(hash, bytes, 0, 8, 8, bytes.length)).toBe(-1);
    }
    expect(lookupKeyHash(bytes, 0, 8, 8, bytes.length)).not.toBe(lookupKeyHash(bytes, 0, 7, 7, bytes.length));
    expect(cache.find(lookupKeyHash(bytes, 0, 7, 7, bytes.length), bytes, 0, 7, 7, bytes.length)).toBe(e);
  });

  it('spreads the keys of a fleet over the table: 50,000 instance ids differing in their last characters hash to nearly as many slots', () => {
    const hashes = new Set<number>();
    for (let n = 0; n < LookupCache.MAX_LOOKUPS; n++) {
      const key = Buffer.from(`AWS/EC2\n\x1e\n\nInstanceId\x12\x15\n\x13${instance(n)}`);
      hashes.add(lookupKeyHash(key, 0, 7, 7, key.length) & 0xffff);
    }
    // 50,000 random values in 65,536 slots leave ~35,000 distinct ones; a hash that ignored bytes would leave far fewer.
    expect(hashes.size).toBeGreaterThan(33_000);
  });

  describe('the Dimensions of a known resource, checked once per snapshot rather than on every data point', () => {
    /** A frame of one gauge data point, its attributes as given (encoded KeyValues), of the scope's account and region. */
    function frameOf(attributes: Uint8Array[]): Uint8Array {
      const w = new Writer();
      w.uint32(0x0a).fork(); // resource_metrics
      w.uint32(0x0a).fork().uint32(0x0a).bytes(str('cloud.account.id', A)).uint32(0x0a).bytes(str('cloud.region', REGION)).ldelim();
      w.uint32(0x12).fork().uint32(0x12).fork().uint32(0x0a).string('amazonaws.com/AWS/EC2/CPUUtilization'); // scope_metrics, metrics, name
      w.uint32(0x2a).fork().uint32(0x0a).fork(); // gauge, data_points
      for (const a of attributes) w.uint32(0x3a).bytes(a);
      w.uint32(0x19).fixed64(1_795_000_000_000_000_000).uint32(0x21).double(1);
      w.ldelim().ldelim().ldelim().ldelim().ldelim();
      return w.finish();
    }
    const str = (key: string | Uint8Array, value: string | Uint8Array) =>
      new Writer()
        .uint32(0x0a)
        .bytes(typeof key === 'string' ? Buffer.from(key) : key)
        .uint32(0x12)
        .fork()
        .uint32(0x0a)
        .bytes(typeof value === 'string' ? Buffer.from(value) : value)
        .ldelim()
        .finish();
    const list = (entries: Uint8Array[]) => {
      const w = new Writer();
      for (const e of entries) w.uint32(0x0a).bytes(e);
      return w.finish();
    };
    /** Dimensions as CloudWatch writes it: the key, then a value holding only the kvlist. */
    const dimensions = (entries: Uint8Array[]) =>
      new Writer().uint32(0x0a).string('Dimensions').uint32(0x12).fork().uint32(0x32).bytes(list(entries)).ldelim().finish();
    const namespace = str('Namespace', 'AWS/EC2');

    function rewriteOne(scope: ScopeIndex, attributes: Uint8Array[]) {
      const batch = new OtlpBatch();
      const enrichment = { scope: (account: string, region: string) => (account === A && region === REGION ? scope : undefined) };
      appendMetricStreamRecord(lengthPrefixed(frameOf(attributes)), batch, { resourceAttributes: [], enrichment, stats: new EnrichmentStats() });
      const [line] = [...debugLines({ signal: 'metrics', payload: batch.take().payload })];
      return line!.attributes;
    }

    it('refuses a dimension value that is not UTF-8, whether or not the same resource was seen before with valid bytes', () => {
      const scope = scopeOf('payments');
      const id = Buffer.from(instance(1));
      expect(rewriteOne(scope, [namespace, dimensions([str('InstanceId', id)])])).toMatchObject({ InstanceId: instance(1), 'aws.tag.team': 'payments' });
      const bad = Buffer.from(id);
      bad[bad.length - 1] = 0xff;
      for (let i = 0; i < 2; i++) expect(() => rewriteOne(scope, [namespace, dimensions([str('InstanceId', bad)])])).toThrow(/not valid UTF-8/);
      // A dimension key that is not UTF-8, and a dimension that is a varint: refused as well.
      expect(() => rewriteOne(scope, [namespace, dimensions([str(Buffer.from([0xc3, 0x28]), id)])])).toThrow(/not valid UTF-8/);
      expect(() => rewriteOne(scope, [namespace, dimensions([Buffer.from([0x08, 0x01])])])).toThrow(/wire type 0/);
    });

    it("does not let a Namespace that swallows the start of the Dimensions find another data point's lookup and skip their check", () => {
      const scope = scopeOf('payments');
      const entries = list([str('InstanceId', instance(1))]);
      expect(rewriteOne(scope, [namespace, dimensions([str('InstanceId', instance(1))])])).toMatchObject({ 'aws.tag.team': 'payments' });
      // The same key bytes: Namespace "AWS/EC2" + the list's first byte, Dimensions the rest (not a valid list).
      const swallowing = str('Namespace', Buffer.concat([Buffer.from('AWS/EC2'), entries.subarray(0, 1)]));
      const rest = new Writer().uint32(0x0a).string('Dimensions').uint32(0x12).fork().uint32(0x32).bytes(entries.subarray(1)).ldelim().finish();
      expect(() => rewriteOne(scope, [swallowing, rest])).toThrow(/is not an OTLP ExportMetricsServiceRequest/);
    });

    it('refuses bad Dimensions of a data point that has no Namespace to look its resource up by', () => {
      const bad = Buffer.from(instance(1));
      bad[0] = 0xc3;
      expect(() => rewriteOne(scopeOf('payments'), [dimensions([str('InstanceId', bad)])])).toThrow(/not valid UTF-8/);
    });

    it('writes the dimensions of a resource seen before as they were first written, only where they would be written the same', () => {
      const scope = scopeOf('payments');
      const attributesOf = (attributes: Uint8Array[]) => {
        const batch = new OtlpBatch();
        const enrichment = { scope: (account: string, region: string) => (account === A && region === REGION ? scope : undefined) };
        appendMetricStreamRecord(lengthPrefixed(frameOf(attributes)), batch, { resourceAttributes: [], enrichment, stats: new EnrichmentStats() });
        const dp = (decodeToJson('metrics', batch.take().payload) as any).resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0];
        return dp.attributes.map((a: any) => [a.key, a.value.stringValue]);
      };
      const metricName = str('MetricName', 'CPUUtilization');
      const host = str('Host', 'a');
      const ns2 = str('Namespace', 'Other');
      // Dimensions with one named like an attribute: renamed Dimensions.MetricName wherever MetricName is an attribute too.
      const dims = dimensions([str('InstanceId', instance(1)), str('MetricName', 'x')]);
      const tags = [
        ['cloud.resource_id', arn(`instance/${instance(1)}`)],
        ['aws.tag.team', 'payments'],
      ];
      const cases: Array<[Uint8Array[], string[][]]> = [
        [
          [namespace, metricName, dims],
          [['Namespace', 'AWS/EC2'], ['MetricName', 'CPUUtilization'], ['InstanceId', instance(1)], ['Dimensions.MetricName', 'x'], ...tags],
        ],
        [
          [namespace, metricName, dims],
          [['Namespace', 'AWS/EC2'], ['MetricName', 'CPUUtilization'], ['InstanceId', instance(1)], ['Dimensions.MetricName', 'x'], ...tags],
        ],
        [
          [dims, metricName, namespace],
          [['MetricName', 'CPUUtilization'], ['Namespace', 'AWS/EC2'], ['InstanceId', instance(1)], ['Dimensions.MetricName', 'x'], ...tags],
        ],
        // Other attributes than those two: the dimensions are written for these.
        [
          [namespace, metricName, host, dims],
          [['Namespace', 'AWS/EC2'], ['MetricName', 'CPUUtilization'], ['Host', 'a'], ['InstanceId', instance(1)], ['Dimensions.MetricName', 'x'], ...tags],
        ],
        [
          [namespace, metricName, str('InstanceId', 'as an attribute'), dims],
          [
            ['Namespace', 'AWS/EC2'],
            ['MetricName', 'CPUUtilization'],
            ['InstanceId', 'as an attribute'],
            ['Dimensions.InstanceId', instance(1)],
            ['Dimensions.MetricName', 'x'],
            ...tags,
          ],
        ],
        [
          [ns2, namespace, dims],
          [['Namespace', 'Other'], ['Namespace', 'AWS/EC2'], ['InstanceId', instance(1)], ['MetricName', 'x'], ...tags],
        ],
        [
          [namespace, dims],
          [['Namespace', 'AWS/EC2'], ['InstanceId', instance(1)], ['MetricName', 'x'], ...tags],
        ],
        [
          [namespace, metricName, dims],
          [['Namespace', 'AWS/EC2'], ['MetricName', 'CPUUtilization'], ['InstanceId', instance(1)], ['Dimensions.MetricName', 'x'], ...tags],
        ],
      ];
      for (const [attributes, expected] of cases) expect(attributesOf(attributes)).toEqual(expected);
    });

    it('reads Dimensions laid out otherwise than CloudWatch does (value before key, or more in the value) as before, tags included', () => {
      const scope = scopeOf('payments');
      const entries = list([str('InstanceId', instance(2))]);
      const valueFirst = new Writer().uint32(0x12).fork().uint32(0x32).bytes(entries).ldelim().uint32(0x0a).string('Dimensions').finish();
      const withMore = new Writer()
        .uint32(0x0a)
        .string('Dimensions')
        .uint32(0x12)
        .fork()
        .uint32(0x32)
        .bytes(entries)
        .uint32(0x0a)
        .string('ignored')
        .ldelim()
        .finish();
      for (const dims of [valueFirst, withMore]) {
        expect(rewriteOne(scope, [namespace, dims])).toMatchObject({ Namespace: 'AWS/EC2', InstanceId: instance(2), 'aws.tag.team': 'payments' });
      }
    });
  });
});
