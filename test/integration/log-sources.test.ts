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
  const res = await t.app.inject({ method: 'POST', url, headers: firehoseHeaders(requestId), payload: firehoseBody(records, requestId) });
  return { res, logs: sink.lines('logs') };
}

describe('log sources end to end', () => {
  it('a WAF stream\'s records reach the backend as structured log records beside a plain Direct PUT line', async () => {
    const { res, logs } = await post({}, '/firehose/logs', [Buffer.from(JSON.stringify(wafLog()) + '\n'), Buffer.from('deploy finished\n')]);
    expect(res.statusCode).toBe(200);
    expect(logs.map((l) => [l.attributes['aws.waf.action'], l.body])).toEqual([
      ['BLOCK', JSON.stringify(wafLog())],
      [undefined, 'deploy finished'],
    ]);
    expect(logs[0]!.resource).toEqual({ 'cloud.provider': 'aws', 'cloud.account.id': '123456789012', 'cloud.region': 'eu-west-1' });
  });

  it('a route told ?format=vpc-flow-logs parses every line of every record', async () => {
    const { res, logs } = await post({}, '/firehose/logs?format=vpc-flow-logs', [Buffer.from(`${FLOW_LOG_LINES.accepted}\n${FLOW_LOG_LINES.rejected}\n`), Buffer.from(FLOW_LOG_LINES.noData)]);
    expect(res.statusCode).toBe(200);
    expect(logs.map((l) => l.attributes['aws.vpc.flow_log.log_status'])).toEqual(['OK', 'OK', 'NODATA']);
    expect(logs.map((l) => l.attributes['destination.port'])).toEqual([22, 3389, undefined]);
  });

  it('configured name patterns and CloudTrail log groups apply to CloudWatch Logs records', async () => {
    const env = { FIRETAP_LOG_NAME_PATTERNS: '/logs/{cluster} {namespace}.{pod}.{container}', FIRETAP_CLOUDTRAIL_LOG_GROUPS: '/org/trail', FIRETAP_DETECT_CLOUDTRAIL: 'false' };
    const app = logsRecord(logsMessage({ logGroup: '/logs/kyma-prod', logStream: 'shop.cart-7d9f8b6c5d-x2kq9.cart', events: [{ timestamp: 1_795_000_000_000, message: 'added item' }] }));
    const trail = logsRecord(logsMessage({ logGroup: '/org/trail', logStream: '123456789012_CloudTrail_eu-west-1', events: [{ timestamp: 1_795_000_000_000, message: JSON.stringify(cloudTrailRecord()) }] }));
    const { res, logs } = await post(env, '/firehose/logs', [app, trail]);
    expect(res.statusCode).toBe(200);
    expect(logs[0]!.resource).toMatchObject({ 'k8s.cluster.name': 'kyma-prod', 'k8s.namespace.name': 'shop', 'k8s.pod.name': 'cart-7d9f8b6c5d-x2kq9', 'k8s.container.name': 'cart' });
    expect(logs[1]!.attributes).toMatchObject({ 'aws.cloudtrail.event_name': 'TerminateInstances', 'error.type': 'Client.UnauthorizedOperation' });
  });
});
