import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts';
import {
  type CloudWatchDatapoint,
  firehoseBody,
  firehoseHeaders,
  lengthPrefixed,
  logsMessage,
  logsRecord,
  metricStreamRequest,
} from '../helpers/cloudwatch-fixtures.ts';
import { FakeAws } from '../helpers/fake-aws.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { PrometheusServer } from '../helpers/prometheus-server.ts';
import { sdkEnv } from '../helpers/aws-env.ts';

/**
 * Metric streams through firetap into a real Prometheus (Debian's 2.42, `--web.enable-remote-write-receiver`),
 * asserted the way a user would: PromQL over its HTTP API.
 */
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0aaaaaaaaaaaaaaa1';
const INSTANCE_ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`;

const prometheus = new PrometheusServer();
const aws = new FakeAws();
let sink: OtlpSink;

beforeAll(async () => {
  await Promise.all([prometheus.start(), aws.start()]);
  aws.addAccount(ACCOUNT, 'AKIDREMOTEWRITE');
  aws.setResources(ACCOUNT, REGION, [
    { arn: INSTANCE_ARN, tags: { team: 'platform', 'aws:cloudformation:stack-name': 'web' }, details: { InstanceType: 'm6i.large' } },
  ]);
  Object.assign(process.env, sdkEnv({ AWS_ENDPOINT_URL: aws.url }, 'AKIDREMOTEWRITE', REGION));
  sink = await new OtlpSink().start();
}, 60_000);
afterAll(async () => {
  await Promise.all([prometheus.stop(), aws.stop(), sink?.stop()]);
});
beforeEach(() => {
  sink.received.length = 0;
});

// CloudWatch's timestamps are a few minutes old: whole minutes, within Prometheus's head block.
const minute = (ago: number) => Math.floor(Date.now() / 60_000) * 60_000 - ago * 60_000;

const cpu = (timeMs: number, instance = INSTANCE): CloudWatchDatapoint => ({
  namespace: 'AWS/EC2',
  metricName: 'CPUUtilization',
  unit: 'Percent',
  dimensions: { InstanceId: instance },
  timeMs,
  count: 5,
  sum: 60,
  min: 3,
  max: 31.5,
  percentiles: { 0.99: 30.25 },
});
const memory = (timeMs: number, db: string): CloudWatchDatapoint => ({
  namespace: 'AWS/RDS',
  metricName: 'FreeableMemory',
  unit: 'Bytes',
  dimensions: { DBInstanceIdentifier: db },
  timeMs,
  count: 1,
  sum: 2_147_483_648,
  min: 2_147_483_648,
  max: 2_147_483_648,
});

async function startApp(env: Record<string, string>): Promise<TestApp> {
  const t = await buildTestApp({ FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: prometheus.remoteWriteUrl, ...env });
  if (env.FIRETAP_ENRICHMENT_REGIONS) {
    t.scraper!.start();
    for (let i = 0; i < 200 && (await t.app.inject({ url: '/readyz' })).statusCode !== 200; i++) await new Promise((r) => setTimeout(r, 25));
  }
  return t;
}

async function post(t: TestApp, requestId: string, points: CloudWatchDatapoint[]) {
  const record = lengthPrefixed(metricStreamRequest({ account: ACCOUNT, region: REGION, streamName: 'to-prometheus' }, points));
  return t.app.inject({ method: 'POST', url: '/firehose/metrics', headers: firehoseHeaders(requestId), payload: firehoseBody([record], requestId) });
}

describe('metrics written to a real Prometheus through remote write', () => {
  it("from a metric stream are queryable under YACE's names with the resource's tags, one series per statistic, at CloudWatch's timestamps", async () => {
    const t = await startApp({ FIRETAP_METRIC_NAMING: 'yace', FIRETAP_ENRICHMENT_REGIONS: REGION });
    const at = minute(3);
    const res = await post(t, 'yace', [cpu(at - 60_000), cpu(at), memory(at, 'orders-yace')]);
    expect(res.statusCode).toBe(200);

    const now = Date.now();
    const [max] = await prometheus.query(`aws_ec2_cpuutilization_maximum{dimension_InstanceId="${INSTANCE}",tag_team="platform"}`, now);
    expect(max!.metric).toEqual({
      __name__: 'aws_ec2_cpuutilization_maximum',
      dimension_InstanceId: INSTANCE,
      name: INSTANCE_ARN,
      region: REGION,
      account_id: ACCOUNT,
      tag_team: 'platform',
      tag_aws_cloudformation_stack_name: 'web',
    });
    expect(max!.value).toBe(31.5);
    const raw = await prometheus.samples(`aws_ec2_cpuutilization_maximum{dimension_InstanceId="${INSTANCE}"}`, now);
    expect(raw[0]!.values.map(([time]) => time)).toEqual([at - 60_000, at]);

    const one = async (promql: string) => (await prometheus.query(promql, now)).map((s) => s.value);
    expect(await one(`aws_ec2_cpuutilization_minimum{name="${INSTANCE_ARN}"}`)).toEqual([3]);
    expect(await one(`aws_ec2_cpuutilization_average{name="${INSTANCE_ARN}"}`)).toEqual([12]);
    expect(await one(`aws_ec2_cpuutilization_sum{name="${INSTANCE_ARN}"}`)).toEqual([60]);
    expect(await one(`aws_ec2_cpuutilization_sample_count{name="${INSTANCE_ARN}"}`)).toEqual([5]);
    expect(await one(`aws_ec2_cpuutilization_p99{name="${INSTANCE_ARN}"}`)).toEqual([30.25]);
    expect(await one('aws_ec2_info{tag_team="platform"}')).toEqual([0]);
    // No resource known for it: name="global", no tags.
    const [rds] = await prometheus.query('aws_rds_freeable_memory_maximum{dimension_DBInstanceIdentifier="orders-yace"}', now);
    expect(rds!.metric).toEqual({
      __name__: 'aws_rds_freeable_memory_maximum',
      dimension_DBInstanceIdentifier: 'orders-yace',
      name: 'global',
      region: REGION,
      account_id: ACCOUNT,
    });
    expect(rds!.value).toBe(2_147_483_648);
  });

  it('from a metric stream are queryable under their OpenTelemetry names by default: quantiles, _sum and _count of each summary', async () => {
    const t = await startApp({});
    const at = minute(4);
    expect((await post(t, 'otel', [memory(at, 'orders-otel')])).statusCode).toBe(200);
    const now = Date.now();
    const quantiles = await prometheus.query('amazonaws_com_AWS_RDS_FreeableMemory{DBInstanceIdentifier="orders-otel"}', now);
    expect(quantiles.map((s) => s.metric.quantile).sort()).toEqual(['0', '1']);
    expect(quantiles[0]!.metric).toMatchObject({ Namespace: 'AWS/RDS', MetricName: 'FreeableMemory', cloud_account_id: ACCOUNT, cloud_region: REGION });
    const count = await prometheus.query('amazonaws_com_AWS_RDS_FreeableMemory_count{DBInstanceIdentifier="orders-otel"}', now);
    expect(count.map((s) => s.value)).toEqual([1]);
  });

  it('beside an OTLP endpoint go to both, the request answered 200 only once both accepted', async () => {
    const t = await startApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_METRIC_NAMING: 'yace' });
    sink.respond({ status: 503 });
    const at = minute(2);
    expect((await post(t, 'both', [cpu(at, 'i-0fanout000000001')])).statusCode).toBe(200);
    expect(sink.attempts).toBeGreaterThanOrEqual(2);
    // The OTLP exporter takes YACE's names too.
    expect(sink.lines('metrics').map((l) => l.metric)).toContain('aws_ec2_cpuutilization_maximum');
    expect((await prometheus.query('aws_ec2_cpuutilization_maximum{dimension_InstanceId="i-0fanout000000001"}')).map((s) => s.value)).toEqual([31.5]);
  });

  it('answer 503 while the remote-write receiver cannot be reached, though the OTLP backend accepted, counting the failure against remote write', async () => {
    const t = await buildTestApp({
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: 'http://127.0.0.1:9/api/v1/write',
      FIRETAP_REQUEST_TIMEOUT_MS: '500',
    });
    const res = await post(t, 'down', [cpu(minute(6))]);
    expect(res.statusCode).toBe(503);
    expect(res.json().errorMessage).toContain('Prometheus remote-write backend: connection failed');
    expect(sink.received).toHaveLength(1);
    // Each exporter's failures are counted apart.
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('firetap_exporter_failures_total{signal="metrics",exporter="prometheus-remote-write",outcome="retryable"} 1');
    expect(metrics).not.toContain('exporter="otlp-http"');
  });

  it('include those read from Lambda REPORT and Embedded Metric Format log lines too, under both namings', async () => {
    const at = minute(2);
    const report = (ms: number) =>
      `REPORT RequestId: 6f1c2f3a-0b1d-4e5f-8a9b-0c1d2e3f4a5b\tDuration: ${ms} ms\tBilled Duration: ${Math.ceil(ms)} ms\tMemory Size: 512 MB\tMax Memory Used: 87 MB\t\n`;
    const emf = (service: string) =>
      `${JSON.stringify({ _aws: { Timestamp: at, CloudWatchMetrics: [{ Namespace: 'shop', Dimensions: [['Service']], Metrics: [{ Name: 'Orders', Unit: 'Count' }] }] }, Service: service, Orders: 3 })}\n`;
    for (const [naming, fn] of [
      ['otel', 'checkout-otel'],
      ['yace', 'checkout-yace'],
    ] as const) {
      const t = await startApp({ FIRETAP_METRIC_NAMING: naming });
      const record = logsRecord(
        logsMessage({
          logGroup: `/aws/lambda/${fn}`,
          events: [
            { timestamp: at, message: report(50.5) },
            { timestamp: at + 1000, message: emf(fn) },
            { timestamp: at + 2000, message: report(10.5) },
          ],
        }),
      );
      const res = await t.app.inject({ method: 'POST', url: '/firehose/logs', headers: firehoseHeaders(naming), payload: firehoseBody([record], naming) });
      expect(res.statusCode).toBe(200);
    }
    const value = async (promql: string) => (await prometheus.query(promql)).map((s) => s.value);
    expect(await value('aws_lambda_duration_count{FunctionName="checkout-otel"}')).toEqual([2]);
    expect(await value('aws_lambda_duration_sum{FunctionName="checkout-otel"}')).toEqual([61]);
    expect(await value('amazonaws_com_shop_Orders_sum{Service="checkout-otel"}')).toEqual([3]);
    expect(await value('aws_lambda_duration_sample_count{dimension_FunctionName="checkout-yace"}')).toEqual([2]);
    expect(await value('aws_lambda_duration_maximum{dimension_FunctionName="checkout-yace"}')).toEqual([50.5]);
    expect(await value('aws_shop_orders_sum{dimension_Service="checkout-yace"}')).toEqual([3]);
  });
});
