import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { untilDecodeThreadsRun, buildTestApp, type TestApp } from '../helpers/build-test-app.ts';
import { FakeAws, type FakeResource } from '../helpers/fake-aws.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import {
  eventBridgeEvent,
  firehoseBody,
  firehoseHeaders,
  lengthPrefixed,
  logsMessage,
  logsRecord,
  metricStreamRequest,
  type CloudWatchDatapoint,
} from '../helpers/cloudwatch-fixtures.ts';
import { sdkEnv } from '../helpers/aws-env.ts';

/**
 * Enrichment end to end: the real AWS SDK clients (through AWS_ENDPOINT_URL) against a loopback AWS
 * holding two accounts — the default credentials' own, and one reached by AssumeRole with an external
 * id — in two regions; metric-stream data points and CloudWatch Logs records posted to firetap reach
 * the OTLP sink carrying their resources' tags.
 */
const A = '111111111111';
const B = '222222222222';
const ROLE_B = `arn:aws:iam::${B}:role/firetap-reader`;
const R1 = 'eu-west-1';
const R2 = 'us-east-1';

const aws = new FakeAws();
let sink: OtlpSink;

function inventory(account: string, region: string, team: string): FakeResource[] {
  const arn = (service: string, rest: string) => `arn:aws:${service}:${region}:${account}:${rest}`;
  return [
    { arn: arn('ec2', 'instance/i-0aaaaaaaaaaaaaaa1'), tags: { team, env: 'prod' }, details: { InstanceType: 'm6i.large', AvailabilityZone: `${region}a` } },
    { arn: arn('ec2', 'instance/i-0aaaaaaaaaaaaaaa2'), tags: { team } },
    { arn: arn('ec2', 'instance/i-0untagged00000003'), details: { InstanceType: 'c7g.xlarge' } },
    { arn: arn('rds', 'db:orders'), tags: { team, tier: 'database' }, details: { DBInstanceClass: 'db.r6g.large', Engine: 'postgres' } },
    { arn: arn('rds', 'cluster:ledger'), tags: { team } },
    { arn: arn('lambda', 'function:checkout'), tags: { team, app: 'shop' }, details: { Runtime: 'nodejs22.x', MemorySize: 512 } },
    { arn: arn('logs', 'log-group:/aws/lambda/checkout'), tags: { retention: '30d' } },
    { arn: arn('elasticloadbalancing', 'loadbalancer/app/web/50dc6c495c0c9188'), tags: { team, edge: 'yes' } },
    { arn: arn('sqs', 'orders-dlq'), tags: { team } },
    { arn: arn('ecs', 'cluster/prod'), tags: { team } },
  ];
}

beforeAll(async () => {
  await aws.start();
  aws.addAccount(A, 'AKIDDEFAULTACCOUNT').addRole(ROLE_B, 'firetap-external-id');
  for (const [account, region, team] of [
    [A, R1, 'a-eu'],
    [A, R2, 'a-us'],
    [B, R1, 'b-eu'],
    [B, R2, 'b-us'],
  ] as const) {
    aws.setResources(account, region, inventory(account, region, team));
  }
  Object.assign(process.env, sdkEnv({ AWS_ENDPOINT_URL: aws.url }, 'AKIDDEFAULTACCOUNT', R1));
  sink = await new OtlpSink().start();
});
afterAll(async () => {
  await sink.stop();
  await aws.stop();
});
beforeEach(() => {
  sink.received.length = 0;
  aws.calls.length = 0;
});

const ENV = {
  FIRETAP_ENRICHMENT_REGIONS: `${R1},${R2}`,
  FIRETAP_ENRICHMENT_ROLE_ARNS: `${ROLE_B}|firetap-external-id`,
  FIRETAP_ACCESS_KEYS: 'k',
};

async function startAppWith(extra: Record<string, string> = {}): Promise<TestApp> {
  const t = await buildTestApp({ ...ENV, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, ...extra });
  if (extra.FIRETAP_DECODE_THREADS === '1') await untilDecodeThreadsRun(t);
  t.scraper!.start();
  // Ready within one refresh after start.
  for (let i = 0; i < 200 && (await t.app.inject({ url: '/readyz' })).statusCode !== 200; i++) await new Promise((r) => setTimeout(r, 25));
  return t;
}
afterEach(() => aws.fail('ec2.DescribeInstances', undefined));

const point = (namespace: string, metricName: string, dimensions: Record<string, string>): CloudWatchDatapoint => ({
  namespace,
  metricName,
  dimensions,
  timeMs: 1_795_000_000_000,
  count: 1,
  sum: 1,
  min: 1,
  max: 1,
});

async function postMetrics(t: TestApp, account: string, region: string, points: CloudWatchDatapoint[]) {
  const record = lengthPrefixed(metricStreamRequest({ account, region, streamName: 's' }, points));
  const res = await t.app.inject({
    method: 'POST',
    url: '/firehose/metrics',
    headers: firehoseHeaders('m', { 'x-amz-firehose-access-key': 'k' }),
    payload: firehoseBody([record], 'm'),
  });
  expect(res.statusCode).toBe(200);
  return sink.lines('metrics');
}

// Metric records are rewritten on a decode thread, which holds a copy of the tag cache's snapshot, or on the main
// thread: every case runs both ways, whatever the CPU count of the machine the tests run on.
describe.each([
  { threads: '0', where: 'on the main thread' },
  { threads: '1', where: 'on a decode thread' },
])('enrichment, metric records decoded $where', ({ threads }) => {
  const startApp = (extra: Record<string, string> = {}) => startAppWith({ FIRETAP_DECODE_THREADS: threads, ...extra });
  it('puts the tags and attributes of the right account and region on every data point that names a known resource', async () => {
    const t = await startApp();
    const lines = await postMetrics(t, B, R2, [
      point('AWS/EC2', 'CPUUtilization', { InstanceId: 'i-0aaaaaaaaaaaaaaa1' }),
      point('AWS/EC2', 'CPUUtilization', { InstanceId: 'i-0untagged00000003' }),
      point('AWS/RDS', 'DatabaseConnections', { DBInstanceIdentifier: 'orders' }),
      point('AWS/Lambda', 'Duration', { FunctionName: 'checkout', Resource: 'checkout' }),
      point('AWS/ApplicationELB', 'RequestCount', { LoadBalancer: 'app/web/50dc6c495c0c9188' }),
      point('AWS/SQS', 'NumberOfMessagesSent', { QueueName: 'orders-dlq' }),
      point('AWS/SQS', 'NumberOfMessagesSent', { QueueName: 'unknown-queue' }),
      point('AWS/Usage', 'CallCount', { Service: 'Logs', Type: 'API' }),
    ]);
    const byName = (i: number) => lines[i]!.attributes;
    expect(byName(0)).toMatchObject({
      InstanceId: 'i-0aaaaaaaaaaaaaaa1',
      'cloud.resource_id': `arn:aws:ec2:${R2}:${B}:instance/i-0aaaaaaaaaaaaaaa1`,
      'aws.tag.team': 'b-us',
      'aws.tag.env': 'prod',
      'host.type': 'm6i.large',
      'cloud.availability_zone': 'us-east-1a',
    });
    // Untagged: the Tagging API does not see it, DescribeInstances does.
    expect(byName(1)).toMatchObject({ 'host.type': 'c7g.xlarge', 'cloud.resource_id': expect.stringContaining('i-0untagged00000003') });
    expect(byName(2)).toMatchObject({
      'aws.tag.team': 'b-us',
      'aws.tag.tier': 'database',
      'aws.rds.instance_class': 'db.r6g.large',
      'aws.rds.engine': 'postgres',
    });
    expect(byName(3)).toMatchObject({ 'aws.tag.app': 'shop', 'aws.lambda.runtime': 'nodejs22.x', 'faas.max_memory': String(512 * 1024 * 1024) });
    expect(byName(4)).toMatchObject({ 'aws.tag.edge': 'yes' });
    expect(byName(5)).toMatchObject({ 'aws.tag.team': 'b-us' });
    // Unmatched data points are delivered unchanged.
    expect(Object.keys(byName(6))).toEqual(['Namespace', 'MetricName', 'QueueName']);
    expect(Object.keys(byName(7))).toEqual(['Namespace', 'MetricName', 'Service', 'Type']);

    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('firetap_enrichment_lookups_total{signal="metrics",namespace="AWS/SQS",outcome="miss"} 1');
    expect(metrics).toContain('firetap_enrichment_lookups_total{signal="metrics",namespace="AWS/EC2",outcome="hit"} 2');
    expect(metrics).toContain(`firetap_enrichment_resources{account="${A}",region="${R1}",namespace="AWS/EC2"} 3`);
    expect(metrics).toMatch(new RegExp(`firetap_enrichment_snapshot_age_seconds\\{account="${B}",region="${R2}"\\} \\d`));
    expect(metrics).toMatch(/firetap_enrichment_api_calls_total\{api="ec2:DescribeInstances"\} \d+/);
  });

  it('with FIRETAP_ENRICHMENT_ATTRIBUTES_ON=resource, puts them once on a Resource per AWS resource, its data points under it', async () => {
    const t = await startApp({ FIRETAP_ENRICHMENT_ATTRIBUTES_ON: 'resource' });
    const lines = await postMetrics(t, B, R2, [
      point('AWS/EC2', 'CPUUtilization', { InstanceId: 'i-0aaaaaaaaaaaaaaa1' }),
      point('AWS/EC2', 'NetworkIn', { InstanceId: 'i-0aaaaaaaaaaaaaaa1' }),
      point('AWS/SQS', 'NumberOfMessagesSent', { QueueName: 'unknown-queue' }),
    ]);
    expect(lines.map((l) => [l.metric.split('/').pop(), l.resource['cloud.resource_id'], l.resource['aws.tag.team'], l.attributes['aws.tag.team']])).toEqual([
      ['CPUUtilization', `arn:aws:ec2:${R2}:${B}:instance/i-0aaaaaaaaaaaaaaa1`, 'b-us', undefined],
      ['NetworkIn', `arn:aws:ec2:${R2}:${B}:instance/i-0aaaaaaaaaaaaaaa1`, 'b-us', undefined],
      ['NumberOfMessagesSent', undefined, undefined, undefined],
    ]);
    expect(lines[0]!.resource).toMatchObject({ 'cloud.account.id': B, 'cloud.region': R2, 'host.type': 'm6i.large' });
    expect(lines[0]!.attributes).toEqual({ Namespace: 'AWS/EC2', MetricName: 'CPUUtilization', InstanceId: 'i-0aaaaaaaaaaaaaaa1' });
  });

  it('tags data points of metric streams in the JSON output format too', async () => {
    const t = await startApp();
    const json = JSON.stringify({
      metric_stream_name: 's',
      account_id: B,
      region: R1,
      namespace: 'AWS/EC2',
      metric_name: 'CPUUtilization',
      dimensions: { InstanceId: 'i-0aaaaaaaaaaaaaaa1' },
      timestamp: 1_795_000_000_000,
      value: { count: 1, sum: 2, min: 2, max: 2 },
      unit: 'Percent',
    });
    const res = await t.app.inject({
      method: 'POST',
      url: '/firehose/metrics',
      headers: firehoseHeaders('j', { 'x-amz-firehose-access-key': 'k' }),
      payload: firehoseBody([Buffer.from(json)], 'j'),
    });
    expect(res.statusCode).toBe(200);
    expect(sink.lines('metrics')[0]!.attributes).toMatchObject({ InstanceId: 'i-0aaaaaaaaaaaaaaa1', 'aws.tag.team': 'b-eu', 'host.type': 'm6i.large' });
  });

  it('keeps each account and region apart', async () => {
    const t = await startApp();
    const lines = await postMetrics(t, A, R1, [point('AWS/EC2', 'CPUUtilization', { InstanceId: 'i-0aaaaaaaaaaaaaaa1' })]);
    expect(lines[0]!.attributes['aws.tag.team']).toBe('a-eu');
  });

  it('assumes the role with its external id, and pages through every API once per account and region', async () => {
    await startApp();
    expect(aws.calls.filter((c) => c.service === 'sts' && c.action === 'AssumeRole')).toHaveLength(1);
    // Each scope: DescribeInstances pages through 2 per page → 2 pages for 3 instances.
    const ec2 = aws.calls.filter((c) => c.action === 'DescribeInstances');
    expect(ec2.map((c) => `${c.account}/${c.region}`).sort()).toEqual([
      `${A}/${R1}`,
      `${A}/${R1}`,
      `${A}/${R2}`,
      `${A}/${R2}`,
      `${B}/${R1}`,
      `${B}/${R1}`,
      `${B}/${R2}`,
      `${B}/${R2}`,
    ]);
  });

  it('retries throttled calls and still builds the snapshot', async () => {
    aws.throttle('ec2.DescribeInstances', 2).throttle('tagging.GetResources', 2).throttle('rds.DescribeDBInstances', 1).throttle('lambda.ListFunctions', 1);
    const t = await startApp();
    const lines = await postMetrics(t, A, R2, [point('AWS/RDS', 'CPUUtilization', { DBInstanceIdentifier: 'orders' })]);
    expect(lines[0]!.attributes['aws.tag.team']).toBe('a-us');
    expect(aws.calls.filter((c) => c.action === 'DescribeInstances').length).toBeGreaterThan(8);
  });

  it('keeps the last good snapshot, marked stale, when a refresh fails, and picks up changed tags on the next good one', async () => {
    const t = await startApp();
    aws.fail('ec2.DescribeInstances', { status: 403, code: 'UnauthorizedOperation' });
    const changed = inventory(A, R1, 'a-eu').map((r) => (r.arn.endsWith('i-0aaaaaaaaaaaaaaa1') ? { ...r, tags: { team: 'renamed' } } : r));
    aws.setResources(A, R1, changed);
    await t.scraper!.refreshNow();
    let lines = await postMetrics(t, A, R1, [point('AWS/EC2', 'CPUUtilization', { InstanceId: 'i-0aaaaaaaaaaaaaaa1' })]);
    expect(lines[0]!.attributes['aws.tag.team']).toBe('a-eu');
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain(`firetap_enrichment_snapshot_stale{account="${A}",region="${R1}"} 1`);
    expect(metrics).toContain('firetap_enrichment_api_errors_total{api="ec2:DescribeInstances",code="UnauthorizedOperation"}');

    aws.fail('ec2.DescribeInstances', undefined);
    sink.received.length = 0;
    await t.scraper!.refreshNow();
    lines = await postMetrics(t, A, R1, [point('AWS/EC2', 'CPUUtilization', { InstanceId: 'i-0aaaaaaaaaaaaaaa1' })]);
    expect(lines[0]!.attributes['aws.tag.team']).toBe('renamed');
    aws.setResources(A, R1, inventory(A, R1, 'a-eu'));
  });

  it('puts the owning resource and log group tags on Lambda and instance-id log records', async () => {
    const t = await startApp();
    const records = [
      logsRecord(logsMessage({ owner: B, logGroup: '/aws/lambda/checkout', events: [{ timestamp: 1, message: 'START' }] })),
      logsRecord(logsMessage({ owner: B, logGroup: '/ec2/app', logStream: 'i-0aaaaaaaaaaaaaaa2', events: [{ timestamp: 2, message: 'hello' }] })),
      logsRecord(logsMessage({ owner: B, logGroup: '/app/other', logStream: 'web-1', events: [{ timestamp: 3, message: 'plain' }] })),
    ];
    const headers = firehoseHeaders('l', { 'x-amz-firehose-access-key': 'k', 'x-amz-firehose-source-arn': `arn:aws:firehose:${R1}:${B}:deliverystream/logs` });
    const res = await t.app.inject({ method: 'POST', url: '/firehose/logs', headers, payload: firehoseBody(records, 'l') });
    expect(res.statusCode).toBe(200);
    const [lambda, vm, other] = sink.lines('logs');
    expect(lambda!.resource).toMatchObject({
      'cloud.resource_id': `arn:aws:lambda:${R1}:${B}:function:checkout`,
      'aws.tag.team': 'b-eu',
      'aws.tag.retention': '30d',
      'faas.name': 'checkout',
    });
    expect(vm!.resource).toMatchObject({ 'cloud.resource_id': `arn:aws:ec2:${R1}:${B}:instance/i-0aaaaaaaaaaaaaaa2`, 'aws.tag.team': 'b-eu' });
    expect(other!.resource['cloud.resource_id']).toBeUndefined();
  });

  it("puts the function's tags on the metrics read from its REPORT lines", async () => {
    const t = await startApp();
    const report =
      'REPORT RequestId: 6f1c2f3a-0b1d-4e5f-8a9b-0c1d2e3f4a5b\tDuration: 50.12 ms\tBilled Duration: 51 ms\tMemory Size: 512 MB\tMax Memory Used: 87 MB\t\n';
    const record = logsRecord(logsMessage({ owner: B, logGroup: '/aws/lambda/checkout', events: [{ timestamp: 1_795_000_000_000, message: report }] }));
    const headers = firehoseHeaders('r', { 'x-amz-firehose-access-key': 'k', 'x-amz-firehose-source-arn': `arn:aws:firehose:${R2}:${B}:deliverystream/logs` });
    const res = await t.app.inject({ method: 'POST', url: '/firehose/logs', headers, payload: firehoseBody([record], 'r') });
    expect(res.statusCode).toBe(200);
    const duration = sink.lines('metrics').find((m) => m.metric === 'aws.lambda.duration');
    expect(duration!.attributes).toMatchObject({
      FunctionName: 'checkout',
      'cloud.resource_id': `arn:aws:lambda:${R2}:${B}:function:checkout`,
      'aws.tag.team': 'b-us',
      'aws.tag.app': 'shop',
    });
    expect(duration!.resource).toMatchObject({ 'cloud.account.id': B, 'cloud.region': R2 });
  });

  it('puts the tags of the first known resource an EventBridge event names on its log record', async () => {
    const t = await startApp({ FIRETAP_EVENTBRIDGE_API_KEYS: 'eb' });
    const event = eventBridgeEvent({
      account: A,
      region: R2,
      'detail-type': 'EC2 Instance State-change Notification',
      resources: [`arn:aws:ec2:${R2}:${A}:instance/i-0unknown00000000`, `arn:aws:ec2:${R2}:${A}:instance/i-0aaaaaaaaaaaaaaa1`],
    });
    const res = await t.app.inject({
      method: 'POST',
      url: '/eventbridge/events',
      headers: { 'content-type': 'application/json', 'x-api-key': 'eb' },
      payload: JSON.stringify(event),
    });
    expect(res.statusCode).toBe(200);
    expect(sink.lines('logs')[0]!.resource).toMatchObject({
      'cloud.account.id': A,
      'cloud.region': R2,
      'cloud.resource_id': `arn:aws:ec2:${R2}:${A}:instance/i-0aaaaaaaaaaaaaaa1`,
      'aws.tag.team': 'a-us',
      'host.type': 'm6i.large',
    });
  });

  it('answers what the cache holds for a resource, behind the access key', async () => {
    const t = await startApp();
    expect((await t.app.inject({ url: '/enrichment/resources?namespace=AWS/EC2&dimension.InstanceId=i-0aaaaaaaaaaaaaaa1' })).statusCode).toBe(401);
    const headers = { 'x-amz-firehose-access-key': 'k' };
    const byDims = (
      await t.app.inject({ url: `/enrichment/resources?namespace=AWS/EC2&dimension.InstanceId=i-0aaaaaaaaaaaaaaa1&account=${B}&region=${R1}`, headers })
    ).json();
    expect(byDims.resources).toEqual([
      expect.objectContaining({
        arn: `arn:aws:ec2:${R1}:${B}:instance/i-0aaaaaaaaaaaaaaa1`,
        tags: { team: 'b-eu', env: 'prod' },
        discoveredBy: ['tag:GetResources', 'ec2:DescribeInstances'],
      }),
    ]);
    const arn = `arn:aws:sqs:${R2}:${A}:orders-dlq`;
    const byArn = (await t.app.inject({ url: `/enrichment/resources?arn=${encodeURIComponent(arn)}`, headers })).json();
    expect(byArn.resources.map((r: { arn: string }) => r.arn)).toEqual([arn]);
    expect(byArn.snapshots).toHaveLength(4);
    expect((await t.app.inject({ url: '/enrichment/resources', headers })).statusCode).toBe(400);
    // A bad query is the asker's to fix: 400 naming what to add, never a 500.
    const noDims = await t.app.inject({ url: '/enrichment/resources?namespace=AWS/EC2', headers });
    expect([noDims.statusCode, noDims.json()]).toEqual([400, { error: 'give at least one dimension.<Name>=<value> with namespace' }]);
  });

  it('keeps /readyz unready until the first snapshot, for at most the configured time; ingestion never waits', async () => {
    aws.fail('sts.AssumeRole', { status: 503, code: 'ServiceUnavailable' });
    const t = await buildTestApp({ ...ENV, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_ENRICHMENT_READY_TIMEOUT_MS: '60000' });
    expect((await t.app.inject({ url: '/readyz' })).json()).toEqual({
      status: 'waiting for the first tag snapshot',
      snapshot: { version: null, ageSeconds: null, leader: true },
    });
    // Data is accepted before any snapshot exists, delivered without tags.
    const lines = await postMetrics(t, A, R1, [point('AWS/EC2', 'CPUUtilization', { InstanceId: 'i-0aaaaaaaaaaaaaaa1' })]);
    expect(lines[0]!.attributes['aws.tag.team']).toBeUndefined();
    await t.scraper!.refreshNow();
    const ready = await t.app.inject({ url: '/readyz' });
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready', snapshot: { version: 1, ageSeconds: 0, leader: true } }]);
    aws.fail('sts.AssumeRole', undefined);

    const bounded = await buildTestApp({ ...ENV, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_ENRICHMENT_READY_TIMEOUT_MS: '0' });
    expect((await bounded.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});
