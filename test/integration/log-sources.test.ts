import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { FLOW_LOG_LINES, cloudTrailRecord, firehoseBody, firehoseHeaders, logsMessage, logsRecord, wafLog } from '../helpers/cloudwatch-fixtures.ts';

let sink: OtlpSink;
beforeAll(async () => {
  sink = await new OtlpSink().start();
});
afterAll(() => sink.stop());

async function post(env: Record<string, string>, url: string, records: Buffer[]) {
  sink.received.length = 0;
  const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, ...env });
  const requestId = `log-sources-${Math.random()}`;
  // Firehose retries a request with the same id and the same body.
  const body = firehoseBody(records, requestId);
  const send = () => t.app.inject({ method: 'POST', url, headers: firehoseHeaders(requestId), payload: body });
  const res = await send();
  return { res, logs: sink.lines('logs'), metrics: sink.lines('metrics'), send };
}

const REPORT = (ms: number, init = '') =>
  `REPORT RequestId: 6f1c2f3a-0b1d-4e5f-8a9b-0c1d2e3f4a5b\tDuration: ${ms} ms\tBilled Duration: ${Math.ceil(ms)} ms\tMemory Size: 512 MB\tMax Memory Used: 87 MB\t${init}\n`;
const lambdaRecord = () =>
  logsRecord(
    logsMessage({
      logGroup: '/aws/lambda/checkout',
      events: [
        { id: '1', timestamp: 1_795_000_000_000, message: REPORT(50.5, 'Init Duration: 180.25 ms\t') },
        {
          id: '2',
          timestamp: 1_795_000_001_000,
          message:
            '{"_aws":{"Timestamp":1795000001000,"CloudWatchMetrics":[{"Namespace":"shop","Dimensions":[["Service"]],"Metrics":[{"Name":"Orders","Unit":"Count"}]}]},"Service":"checkout","Orders":3}\n',
        },
        { id: '3', timestamp: 1_795_000_002_000, message: REPORT(10.5) },
      ],
    }),
  );

describe('log sources end to end', () => {
  it("a Lambda log group's REPORT and EMF lines also reach the metrics backend, the log lines unchanged", async () => {
    const { res, logs, metrics } = await post({}, '/firehose/logs', [lambdaRecord()]);
    expect(res.statusCode).toBe(200);
    expect(logs).toHaveLength(3);
    const byName = Object.fromEntries(metrics.map((m) => [m.metric, m]));
    expect(byName['aws.lambda.duration']).toMatchObject({ count: '2', sum: 61, attributes: { FunctionName: 'checkout', Namespace: 'AWS/Lambda' } });
    expect(byName['aws.lambda.init_duration']).toMatchObject({ count: '1' });
    expect(byName['amazonaws.com/shop/Orders']).toMatchObject({ sum: 3, attributes: { Service: 'checkout' } });
  });

  it('acknowledges only once the metrics read from the logs are delivered too, and sends neither twice on the retry', async () => {
    const metricsDown = { status: 503, headers: { 'retry-after': '1' } };
    let metricsCalls = 0;
    sink.decideBy((body) => (body.includes(Buffer.from('aws.lambda.duration')) && ++metricsCalls <= 10 ? metricsDown : undefined));
    const { res, send } = await post({ FIRETAP_REQUEST_TIMEOUT_MS: '300' }, '/firehose/logs', [lambdaRecord()]);
    expect(res.statusCode).toBe(503);
    expect(sink.lines('logs')).toHaveLength(3);
    sink.decideBy(undefined);
    const retry = await send();
    expect(retry.statusCode).toBe(200);
    expect(sink.lines('logs')).toHaveLength(3);
    expect(sink.lines('metrics').filter((m) => m.metric === 'aws.lambda.duration')).toHaveLength(1);
  });

  it('reads no metrics from logs with FIRETAP_LOG_METRICS=none', async () => {
    const { res, logs, metrics } = await post({ FIRETAP_LOG_METRICS: 'none' }, '/firehose/logs', [lambdaRecord()]);
    expect(res.statusCode).toBe(200);
    expect([logs.length, metrics.length]).toEqual([3, 0]);
  });

  it("a WAF stream's records reach the backend as structured log records beside a plain Direct PUT line", async () => {
    const { res, logs } = await post({}, '/firehose/logs', [Buffer.from(`${JSON.stringify(wafLog())}\n`), Buffer.from('deploy finished\n')]);
    expect(res.statusCode).toBe(200);
    expect(logs.map((l) => [l.attributes['aws.waf.action'], l.body])).toEqual([
      ['BLOCK', JSON.stringify(wafLog())],
      [undefined, 'deploy finished'],
    ]);
    expect(logs[0]!.resource).toEqual({ 'cloud.provider': 'aws', 'cloud.account.id': '123456789012', 'cloud.region': 'eu-west-1' });
  });

  it('a route told ?format=vpc-flow-logs parses every line of every record', async () => {
    const { res, logs } = await post({}, '/firehose/logs?format=vpc-flow-logs', [
      Buffer.from(`${FLOW_LOG_LINES.accepted}\n${FLOW_LOG_LINES.rejected}\n`),
      Buffer.from(FLOW_LOG_LINES.noData),
    ]);
    expect(res.statusCode).toBe(200);
    expect(logs.map((l) => l.attributes['aws.vpc.flow_log.log_status'])).toEqual(['OK', 'OK', 'NODATA']);
    expect(logs.map((l) => l.attributes['destination.port'])).toEqual([22, 3389, undefined]);
  });

  it('configured name patterns and CloudTrail log groups apply to CloudWatch Logs records', async () => {
    const env = {
      FIRETAP_LOG_NAME_PATTERNS: '/logs/{cluster} {namespace}.{pod}.{container}',
      FIRETAP_CLOUDTRAIL_LOG_GROUPS: '/org/trail',
      FIRETAP_DETECT_CLOUDTRAIL: 'false',
    };
    const app = logsRecord(
      logsMessage({
        logGroup: '/logs/kyma-prod',
        logStream: 'shop.cart-7d9f8b6c5d-x2kq9.cart',
        events: [{ timestamp: 1_795_000_000_000, message: 'added item' }],
      }),
    );
    const trail = logsRecord(
      logsMessage({
        logGroup: '/org/trail',
        logStream: '123456789012_CloudTrail_eu-west-1',
        events: [{ timestamp: 1_795_000_000_000, message: JSON.stringify(cloudTrailRecord()) }],
      }),
    );
    const { res, logs } = await post(env, '/firehose/logs', [app, trail]);
    expect(res.statusCode).toBe(200);
    expect(logs[0]!.resource).toMatchObject({
      'k8s.cluster.name': 'kyma-prod',
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'cart-7d9f8b6c5d-x2kq9',
      'k8s.container.name': 'cart',
    });
    expect(logs[1]!.attributes).toMatchObject({ 'aws.cloudtrail.event_name': 'TerminateInstances', 'error.type': 'Client.UnauthorizedOperation' });
  });
});
