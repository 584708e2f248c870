import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compileNamePatterns, type LogOptionsConfig } from '../../../src/decode/log-options.ts';
import { RecordError } from '../../../src/decode/record-error.ts';
import { debugLines } from '../../../src/export/debug.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import type { LogFormat } from '../../../src/decode/formats.ts';
import { RECORD_CODECS } from '../../../src/pipeline/record-codecs.ts';
import { recordContext } from '../../helpers/record-context.ts';
import { CUSTOM_FLOW_LOG, FLOW_LOG_LINES, cloudTrailRecord, logsMessage, logsRecord, wafLog } from '../../helpers/cloudwatch-fixtures.ts';

async function decode(record: Buffer, logFormat: LogFormat = 'auto', options: Partial<LogOptionsConfig> = {}) {
  const ctx = recordContext({ logFormat }, options);
  const batch = new OtlpBatch();
  const payloads: Uint8Array[] = [];
  let next = await RECORD_CODECS.logs(record.toString('base64'), batch, ctx);
  while (next) {
    payloads.push(batch.take().payload);
    next = next();
  }
  payloads.push(batch.take().payload);
  return payloads.flatMap((payload) => [...debugLines({ signal: 'logs', payload })]);
}

const text = (s: string) => Buffer.from(s, 'utf8');

describe('raw records on the logs route (Direct PUT, services writing to Firehose)', () => {
  it("turns each line of a raw record into a log record on the delivery stream's account and region", async () => {
    const lines = await decode(text('first line\r\nsecond line\n\nthird line\n'));
    expect(lines.map((l) => l.body)).toEqual(['first line', 'second line', 'third line']);
    expect(lines[0]).toMatchObject({
      resource: { 'cloud.provider': 'aws', 'cloud.account.id': '123456789012', 'cloud.region': 'eu-west-1' },
      observedTimeUnixNano: '1795000999000000000',
      attributes: {},
    });
    // The source did not say when it happened: no time rather than a made-up one.
    expect(lines[0]!.timeUnixNano ?? '0').toBe('0');
  });

  it('keeps a multi-line record whole with ?format=record', async () => {
    const trace = 'Exception in thread "main" java.lang.IllegalStateException\n\tat shop.Cart.add(Cart.java:42)\n\tat shop.Main.main(Main.java:7)\n';
    expect((await decode(text(trace), 'record')).map((l) => l.body)).toEqual([trace.slice(0, -1)]);
  });

  it('gunzips a gzipped raw record once and reads its lines', async () => {
    expect((await decode(gzipSync('a\nb\n'))).map((l) => l.body)).toEqual(['a', 'b']);
  });

  it('forwards a record that is not UTF-8 as one log record whose body is its bytes', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x80]);
    const lines = await decode(bytes);
    expect(lines).toHaveLength(1);
    expect(Buffer.from(lines[0]!.body as string, 'base64')).toEqual(bytes);
  });

  it('forwards JSON lines that are no known log verbatim', async () => {
    const line = '{"CHANGE":-0.23,"PRICE":4.8,"TICKER_SYMBOL":"NGC"}';
    expect(await decode(text(line))).toEqual([expect.objectContaining({ body: line, attributes: {} })]);
  });

  it('still refuses a record that claims to be a subscription message but is not a valid one', async () => {
    await expect(decode(text('{"messageType":"DATA_MESSAGE","owner":"1"}'))).rejects.toThrow(RecordError);
    await expect(decode(text('{"messageType":"DATA_MESSAGE","owner":"1"}'))).rejects.toThrow('no string "logGroup"');
  });

  it('refuses a raw record on a route told ?format=cloudwatch-logs', async () => {
    await expect(decode(text('plain text'), 'cloudwatch-logs')).rejects.toThrow('record is not JSON');
  });

  it('reads subscription records as before when format detection is on', async () => {
    const record = logsRecord(logsMessage({ events: [{ id: 'e1', timestamp: 1_795_000_000_000, message: 'hello' }] }));
    const [auto, strict] = [await decode(record), await decode(record, 'cloudwatch-logs')];
    expect(auto).toEqual(strict);
    expect(auto[0]!.resource['aws.log.group.names']).toEqual(['/aws/lambda/checkout']);
  });
});

describe('VPC flow logs sent to Firehose directly', () => {
  it('parses default-format lines into semantic-convention and aws.vpc.flow_log.* attributes, the window start as the time', async () => {
    const [accepted] = await decode(text(FLOW_LOG_LINES.accepted));
    expect(accepted).toMatchObject({ body: FLOW_LOG_LINES.accepted, timeUnixNano: '1795000010000000000' });
    expect(accepted!.attributes).toEqual({
      'aws.vpc.flow_log.version': 2,
      'aws.vpc.flow_log.account_id': '123456789010',
      'aws.vpc.flow_log.interface_id': 'eni-1235b8ca123456789',
      'source.address': '172.31.16.139',
      'destination.address': '172.31.16.21',
      'source.port': 20641,
      'destination.port': 22,
      'aws.vpc.flow_log.protocol': 6,
      'network.transport': 'tcp',
      'aws.vpc.flow_log.packets': 20,
      'aws.vpc.flow_log.bytes': 4249,
      'aws.vpc.flow_log.start': 1795000010,
      'aws.vpc.flow_log.end': 1795000070,
      'aws.vpc.flow_log.action': 'ACCEPT',
      'aws.vpc.flow_log.log_status': 'OK',
    });
  });

  it('leaves out the fields a NODATA line has no value for', async () => {
    const [line] = await decode(text(FLOW_LOG_LINES.noData), 'vpc-flow-logs');
    expect(line!.attributes).toEqual({
      'aws.vpc.flow_log.version': 2,
      'aws.vpc.flow_log.account_id': '123456789010',
      'aws.vpc.flow_log.interface_id': 'eni-1a2b3c4d5e6f7a8b9',
      'aws.vpc.flow_log.start': 1795000076,
      'aws.vpc.flow_log.end': 1795000134,
      'aws.vpc.flow_log.log_status': 'NODATA',
    });
  });

  it('reads a custom format when it is configured, and only then', async () => {
    const [parsed] = await decode(text(CUSTOM_FLOW_LOG.line), 'vpc-flow-logs', { vpcFlowLogFormat: CUSTOM_FLOW_LOG.format });
    expect(parsed!.attributes).toMatchObject({
      'aws.vpc.flow_log.vpc_id': 'vpc-05417e6a2bf3e5a11',
      'aws.vpc.flow_log.instance_id': 'i-01234567890123456',
      'aws.vpc.flow_log.type': 'IPv4',
      'aws.vpc.flow_log.tcp_flags': 19,
      'destination.port': 3306,
    });
    const [unparsed] = await decode(text(CUSTOM_FLOW_LOG.line), 'vpc-flow-logs');
    expect(unparsed).toMatchObject({ body: CUSTOM_FLOW_LOG.line, attributes: {} });
  });

  it('forwards a line that does not fit the format unchanged', async () => {
    const odd = '2 123456789010 eni-1 10.0.0.1 10.0.0.2 x 22 6 20 4249 1795000010 1795000070 ACCEPT OK';
    expect(await decode(text(`${odd}\n${FLOW_LOG_LINES.rejected}`), 'vpc-flow-logs')).toEqual([
      expect.objectContaining({ body: odd, attributes: {} }),
      expect.objectContaining({ body: FLOW_LOG_LINES.rejected, attributes: expect.objectContaining({ 'aws.vpc.flow_log.action': 'REJECT' }) }),
    ]);
  });

  it('are parsed the same when published to CloudWatch Logs (a log stream per network interface), the event time kept', async () => {
    const record = logsRecord(
      logsMessage({
        logGroup: '/vpc/flow-logs',
        logStream: 'eni-1235b8ca123456789-all',
        events: [
          { id: 'f1', timestamp: 1_795_000_080_000, message: FLOW_LOG_LINES.rejected },
          { id: 'f2', timestamp: 1_795_000_081_000, message: 'not a flow log line' },
        ],
      }),
    );
    const [flow, other] = await decode(record);
    expect(flow).toMatchObject({
      timeUnixNano: '1795000080000000000',
      attributes: { 'log.record.uid': 'f1', 'aws.vpc.flow_log.action': 'REJECT', 'destination.port': 3389 },
    });
    expect(other!.attributes).toEqual({ 'log.record.uid': 'f2' });
    const elsewhere = logsRecord(logsMessage({ logGroup: '/app', logStream: 'web-1', events: [{ timestamp: 1, message: FLOW_LOG_LINES.rejected }] }));
    expect(Object.keys((await decode(elsewhere))[0]!.attributes)).toEqual(['log.record.uid']);
  });

  it('takes a line for plain text with ?format=lines', async () => {
    expect(await decode(text(FLOW_LOG_LINES.accepted), 'lines')).toEqual([expect.objectContaining({ body: FLOW_LOG_LINES.accepted, attributes: {} })]);
  });
});

describe('AWS WAF logs', () => {
  it('turns a WAF log into attributes of its decision and request, its timestamp as the time, the JSON as the body', async () => {
    const json = JSON.stringify(wafLog());
    const [line] = await decode(text(`${json}\n`));
    expect(line).toMatchObject({ body: json, timeUnixNano: '1795000123456000000' });
    expect(line!.attributes).toEqual({
      'aws.waf.web_acl.id': 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shop-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
      'aws.waf.action': 'BLOCK',
      'aws.waf.terminating_rule.id': 'AWS-AWSManagedRulesSQLiRuleSet',
      'aws.waf.terminating_rule.type': 'MANAGED_RULE_GROUP',
      'aws.waf.http_source.name': 'ALB',
      'aws.waf.http_source.id': '123456789012-app/shop-alb/50dc6c495c0c9188',
      'aws.waf.response_code_sent': 403,
      'client.address': '203.0.113.7',
      'aws.waf.country': 'NL',
      'http.request.method': 'GET',
      'url.path': '/products',
      'url.query': 'id=1%27%20OR%201=1',
      'aws.waf.request_id': '1-67a1b2c3-0123456789abcdef01234567',
      'network.protocol.version': '1.1',
      'server.address': 'shop.example.com',
      'user_agent.original': 'curl/8.5.0',
      'aws.waf.labels': 'awswaf:managed:aws:sql-database:SQLi_QueryArguments',
    });
  });

  it('forwards a broken WAF line unchanged', async () => {
    const broken = JSON.stringify(wafLog()).slice(0, 200);
    expect(await decode(text(broken), 'waf')).toEqual([expect.objectContaining({ body: broken, attributes: {} })]);
  });
});

describe('CloudTrail records in CloudWatch Logs', () => {
  const trail = (message: string, logGroup = 'aws-cloudtrail-logs-123456789012-org') =>
    logsRecord(logsMessage({ logGroup, logStream: '123456789012_CloudTrail_eu-west-1', events: [{ id: 'ct1', timestamp: 1_795_000_500_000, message }] }));

  it('become structured: fields as attributes, eventTime as the time, the record as the body', async () => {
    const message = JSON.stringify(cloudTrailRecord());
    const [line] = await decode(trail(message));
    expect(line).toMatchObject({ body: message, timeUnixNano: `${String(Date.parse('2026-11-22T08:15:30Z'))}000000` });
    expect(line!.attributes).toEqual({
      'log.record.uid': 'ct1',
      'aws.cloudtrail.event_source': 'ec2.amazonaws.com',
      'aws.cloudtrail.event_name': 'TerminateInstances',
      'aws.cloudtrail.event_type': 'AwsApiCall',
      'aws.cloudtrail.event_category': 'Management',
      'aws.cloudtrail.event_id': 'e1f2a3b4-5678-90ab-cdef-EXAMPLE33333',
      'aws.cloudtrail.read_only': false,
      'aws.cloudtrail.management_event': true,
      'aws.cloudtrail.error_message': 'You are not authorized to perform this operation.',
      'error.type': 'Client.UnauthorizedOperation',
      'client.address': '198.51.100.23',
      'user_agent.original': 'aws-cli/2.17.0 Python/3.12.4',
      'aws.request_id': 'a1b2c3d4-5678-90ab-cdef-EXAMPLE22222',
      'cloud.region': 'eu-west-1',
      'cloud.account.id': '123456789012',
      'aws.cloudtrail.user_identity.type': 'AssumedRole',
      'aws.cloudtrail.user_identity.arn': 'arn:aws:sts::123456789012:assumed-role/deploy/deployer',
      'aws.cloudtrail.user_identity.account_id': '123456789012',
      'aws.cloudtrail.user_identity.principal_id': 'AROAEXAMPLEID:deployer',
      'aws.cloudtrail.user_identity.session_issuer.arn': 'arn:aws:iam::123456789012:role/deploy',
    });
  });

  it('are found in configured log groups whatever their key order, and only there when detection is off', async () => {
    const { eventName, eventSource, ...rest } = cloudTrailRecord();
    const reordered = JSON.stringify({ eventName, eventSource, ...rest });
    const options = { cloudTrailLogGroups: ['aws-cloudtrail-logs-*'], detectCloudTrail: false };
    expect((await decode(trail(reordered), 'auto', options))[0]!.attributes).toMatchObject({ 'aws.cloudtrail.event_name': 'TerminateInstances' });
    expect((await decode(trail(JSON.stringify(cloudTrailRecord()), '/app/other'), 'auto', options))[0]!.attributes).toEqual({ 'log.record.uid': 'ct1' });
  });

  it('leave other events of the log group untouched', async () => {
    const [line] = await decode(trail('{"eventVersion": not json'));
    expect(line).toMatchObject({ body: '{"eventVersion": not json', timeUnixNano: '1795000500000000000', attributes: { 'log.record.uid': 'ct1' } });
  });
});

describe('Kubernetes names from log group and log stream names', () => {
  const kyma = ['/logs/{cluster} {namespace}.{pod}.{container}'];

  it('reads cluster, namespace, pod and container from Fluent Bit-style names, splitting at the right dots', async () => {
    const record = logsRecord(
      logsMessage({ logGroup: '/logs/prod-eu', logStream: 'kube-system.coredns-5d78c9869d.x2kq.coredns', events: [{ timestamp: 1, message: 'ready' }] }),
    );
    const [line] = await decode(record, 'auto', { namePatterns: kyma });
    expect(line!.resource).toMatchObject({
      'k8s.cluster.name': 'prod-eu',
      'k8s.namespace.name': 'kube-system',
      'k8s.pod.name': 'coredns-5d78c9869d.x2kq',
      'k8s.container.name': 'coredns',
    });
  });

  it('sets nothing when the stream does not match, and tries the next pattern', () => {
    const rules = compileNamePatterns([...kyma, '/aws/containerinsights/{cluster}/application kube.var.log.containers.{pod}_{namespace}_{container}-*']);
    expect(rules.match('/logs/prod-eu', '2026/11/22/[$LATEST]abc')).toBeUndefined();
    expect(rules.match('/aws/containerinsights/prod/application', 'kube.var.log.containers.web-7f9c_shop_nginx-0123abcd.log')).toEqual([
      ['k8s.cluster.name', 'prod'],
      ['k8s.pod.name', 'web-7f9c'],
      ['k8s.namespace.name', 'shop'],
      ['k8s.container.name', 'nginx'],
    ]);
  });

  it.each([
    ['/logs/{cluster} {namespace}.{bogus}', 'unknown placeholder {bogus}'],
    ['/logs/static', 'has no placeholder'],
    ['/logs/{cluster', '"{" without "}"'],
    ['/logs/{cluster}/{cluster}', 'placeholder {cluster} twice'],
  ])('refuses the pattern %s, naming the problem', (pattern, problem) => {
    expect(() => compileNamePatterns([pattern])).toThrow(problem);
  });
});
