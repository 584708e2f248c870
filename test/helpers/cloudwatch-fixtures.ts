import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { otlpTypes } from '../../src/otlp/schema.ts';

/**
 * Builders for what AWS really sends, shaped after the AWS documentation ("CloudWatch metric stream
 * output in OpenTelemetry 1.0.0 format", CloudWatch Logs subscription filters, Firehose HTTP endpoint
 * request specification). Used by tests, the examples and the benchmark.
 */

export interface CloudWatchDatapoint {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  unit?: string;
  /** End of the period, epoch milliseconds. */
  timeMs: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Extra percentiles the stream was asked for: quantile → value. */
  percentiles?: Record<number, number>;
}

export interface StreamIdentity {
  account: string;
  region: string;
  streamName: string;
}

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** A data point's times and statistics, as both OpenTelemetry formats carry them (min and max as quantiles 0 and 1). */
function summaryValues(p: CloudWatchDatapoint) {
  return {
    startTimeUnixNano: String(BigInt(p.timeMs - 60_000) * 1_000_000n),
    timeUnixNano: String(BigInt(p.timeMs) * 1_000_000n),
    count: String(p.count),
    sum: p.sum,
    quantileValues: [
      { quantile: 0, value: p.min },
      ...Object.entries(p.percentiles ?? {}).map(([q, value]) => ({ quantile: Number(q), value })),
      { quantile: 1, value: p.max },
    ],
  };
}

/** One ExportMetricsServiceRequest as CloudWatch writes it: one resource, one scope without name, Summary points. */
export function metricStreamRequest(id: StreamIdentity, points: readonly CloudWatchDatapoint[]): Uint8Array {
  const metrics = points.map((p) => ({
    name: `amazonaws.com/${p.namespace}/${p.metricName}`,
    unit: p.unit ?? 'NoneTranslated',
    summary: {
      dataPoints: [
        {
          ...summaryValues(p),
          attributes: [
            str('Namespace', p.namespace),
            str('MetricName', p.metricName),
            { key: 'Dimensions', value: { kvlistValue: { values: Object.entries(p.dimensions).map(([k, v]) => str(k, v)) } } },
          ],
        },
      ],
    },
  }));
  const message = otlpTypes.ExportMetricsServiceRequest.fromObject({
    resourceMetrics: [
      {
        resource: {
          attributes: [
            str('cloud.provider', 'aws'),
            str('cloud.account.id', id.account),
            str('cloud.region', id.region),
            str('aws.exporter.arn', `arn:aws:cloudwatch:${id.region}:${id.account}:metric-stream/${id.streamName}`),
          ],
        },
        scopeMetrics: [{ metrics }],
      },
    ],
  });
  return otlpTypes.ExportMetricsServiceRequest.encode(message).finish();
}

/**
 * The OpenTelemetry 0.7.0 messages CloudWatch's 0.7.0 output format uses, with the field numbers of
 * opentelemetry-proto v0.7.0 (as the CloudWatch documentation lists them), written here for the fixtures
 * only: an encoder independent of firetap's translation.
 */
const V07 = protobuf.Root.fromJSON({
  nested: {
    v07: {
      nested: {
        KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
        AnyValue: { fields: { stringValue: { type: 'string', id: 1 } } },
        StringKeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
        ExportMetricsServiceRequest: { fields: { resourceMetrics: { rule: 'repeated', type: 'ResourceMetrics', id: 1 } } },
        ResourceMetrics: {
          fields: { resource: { type: 'Resource', id: 1 }, instrumentationLibraryMetrics: { rule: 'repeated', type: 'InstrumentationLibraryMetrics', id: 2 } },
        },
        InstrumentationLibraryMetrics: { fields: { metrics: { rule: 'repeated', type: 'Metric', id: 2 } } },
        Metric: {
          fields: {
            name: { type: 'string', id: 1 },
            description: { type: 'string', id: 2 },
            unit: { type: 'string', id: 3 },
            intGauge: { type: 'bytes', id: 4 },
            doubleSummary: { type: 'DoubleSummary', id: 11 },
          },
        },
        DoubleSummary: { fields: { dataPoints: { rule: 'repeated', type: 'DoubleSummaryDataPoint', id: 1 } } },
        DoubleSummaryDataPoint: {
          fields: {
            labels: { rule: 'repeated', type: 'StringKeyValue', id: 1 },
            startTimeUnixNano: { type: 'fixed64', id: 2 },
            timeUnixNano: { type: 'fixed64', id: 3 },
            count: { type: 'fixed64', id: 4 },
            sum: { type: 'double', id: 5 },
            quantileValues: { rule: 'repeated', type: 'ValueAtQuantile', id: 6 },
          },
        },
        ValueAtQuantile: { fields: { quantile: { type: 'double', id: 1 }, value: { type: 'double', id: 2 } } },
      },
    },
  },
}).lookupType('v07.ExportMetricsServiceRequest');

/** The same data as metricStreamRequest, in the OpenTelemetry 0.7.0 output format (each dimension a label). */
export function metricStreamRequestV07(id: StreamIdentity, points: readonly CloudWatchDatapoint[], extra: Record<string, unknown> = {}): Uint8Array {
  const metrics = points.map((p) => ({
    name: `amazonaws.com/${p.namespace}/${p.metricName}`,
    unit: p.unit ?? 'NoneTranslated',
    doubleSummary: {
      dataPoints: [
        {
          labels: [
            { key: 'Namespace', value: p.namespace },
            { key: 'MetricName', value: p.metricName },
            ...Object.entries(p.dimensions).map(([key, value]) => ({ key, value })),
          ],
          ...summaryValues(p),
        },
      ],
    },
    ...extra,
  }));
  const resource = [
    ['cloud.provider', 'aws'],
    ['cloud.account.id', id.account],
    ['cloud.region', id.region],
    ['aws.exporter.arn', `arn:aws:cloudwatch:${id.region}:${id.account}:metric-stream/${id.streamName}`],
  ].map(([key, value]) => ({ key, value: { stringValue: value } }));
  return V07.encode(V07.fromObject({ resourceMetrics: [{ resource: { attributes: resource }, instrumentationLibraryMetrics: [{ metrics }] }] })).finish();
}

/** Unsigned varint32 length prefix + bytes, for each frame, concatenated: one metric-stream record. */
export function lengthPrefixed(...frames: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of frames) {
    const prefix: number[] = [];
    let n = f.length;
    while (n >= 0x80) {
      prefix.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    prefix.push(n);
    parts.push(Buffer.from(prefix), Buffer.from(f));
  }
  return Buffer.concat(parts);
}

export interface LogsMessageOptions {
  owner?: string;
  logGroup?: string;
  logStream?: string;
  events: Array<{ id?: string; timestamp: number; message: string; extractedFields?: Record<string, string> }>;
}

/** The JSON of a CloudWatch Logs subscription DATA_MESSAGE. */
export function logsMessage(o: LogsMessageOptions): Record<string, unknown> {
  return {
    messageType: 'DATA_MESSAGE',
    owner: o.owner ?? '123456789012',
    logGroup: o.logGroup ?? '/aws/lambda/checkout',
    logStream: o.logStream ?? '2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef',
    subscriptionFilters: ['firetap'],
    logEvents: o.events.map((e, i) => ({ id: e.id ?? `3${String(i).padStart(55, '0')}`, ...e })),
  };
}

export const CONTROL_MESSAGE = {
  messageType: 'CONTROL_MESSAGE',
  owner: 'CloudwatchLogs',
  logGroup: '',
  logStream: '',
  subscriptionFilters: [],
  logEvents: [{ id: '', timestamp: 1_795_000_000_000, message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.' }],
};

/** A CloudWatch Logs record as it reaches Firehose: gzip of the JSON. */
export function logsRecord(message: unknown): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(message)));
}

/** A Firehose HTTP endpoint request body. */
export function firehoseBody(records: readonly Uint8Array[], requestId: string = randomUUID(), timestamp = Date.now()): string {
  return JSON.stringify({ requestId, timestamp, records: records.map((r) => ({ data: Buffer.from(r).toString('base64') })) });
}

export const SOURCE_ARN = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/firetap-test';

export function firehoseHeaders(requestId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-amz-firehose-protocol-version': '1.0',
    'x-amz-firehose-request-id': requestId,
    'x-amz-firehose-source-arn': SOURCE_ARN,
    'user-agent': 'Amazon Kinesis Data Firehose Agent/1.0',
    ...extra,
  };
}

/** A realistic mix of namespaces and dimension sets, as a metric stream of a small account carries. */
export function sampleDatapoints(n: number, timeMs = 1_795_000_000_000): CloudWatchDatapoint[] {
  const shapes: Array<Omit<CloudWatchDatapoint, 'timeMs' | 'count' | 'sum' | 'min' | 'max'>> = [
    { namespace: 'AWS/EC2', metricName: 'CPUUtilization', unit: 'Percent', dimensions: { InstanceId: 'i-0abc1234def567890' } },
    { namespace: 'AWS/RDS', metricName: 'DatabaseConnections', unit: 'Count', dimensions: { DBInstanceIdentifier: 'orders' } },
    { namespace: 'AWS/Lambda', metricName: 'Duration', unit: 'Milliseconds', dimensions: { FunctionName: 'checkout', Resource: 'checkout' } },
    {
      namespace: 'AWS/ApplicationELB',
      metricName: 'RequestCount',
      unit: 'Count',
      dimensions: { LoadBalancer: 'app/web/50dc6c495c0c9188', TargetGroup: 'targetgroup/web/73e2d6bc24d8a067' },
    },
    { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', unit: 'Count', dimensions: { QueueName: 'orders-dlq' } },
    { namespace: 'AWS/DynamoDB', metricName: 'ConsumedReadCapacityUnits', dimensions: { TableName: 'sessions' } },
  ];
  return Array.from({ length: n }, (_, i) => {
    const s = shapes[i % shapes.length]!;
    const v = (i % 97) + 0.5;
    return {
      ...s,
      dimensions: { ...s.dimensions },
      timeMs: timeMs + (i % 60) * 1000,
      count: 60,
      sum: v * 60,
      min: v / 2,
      max: v * 2,
      percentiles: { 0.99: v * 1.9 },
    };
  });
}

/** VPC flow log lines in the default format, as the VPC documentation's examples lay them out. */
export const FLOW_LOG_LINES = {
  accepted: '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1795000010 1795000070 ACCEPT OK',
  rejected: '2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1795000010 1795000070 REJECT OK',
  noData: '2 123456789010 eni-1a2b3c4d5e6f7a8b9 - - - - - - - 1795000076 1795000134 - NODATA',
};

/** A custom flow log format (a subset of the fields a flow log can be created with) and a line in it. */
export const CUSTOM_FLOW_LOG = {
  format:
    '${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}',
  line: '3 vpc-05417e6a2bf3e5a11 subnet-0a7a8a5e7a1c2d3e4 i-01234567890123456 eni-1111aaaa2222bbbb3 123456789010 IPv4 10.0.1.5 10.0.2.7 49761 3306 6 5228 20 1795000092 1795000149 ACCEPT 19 OK',
};

/** An AWS WAF web ACL log, with the fields the WAF documentation lists. */
export function wafLog(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    timestamp: 1_795_000_123_456,
    formatVersion: 1,
    webaclId: 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shop-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
    terminatingRuleId: 'AWS-AWSManagedRulesSQLiRuleSet',
    terminatingRuleType: 'MANAGED_RULE_GROUP',
    action: 'BLOCK',
    httpSourceName: 'ALB',
    httpSourceId: '123456789012-app/shop-alb/50dc6c495c0c9188',
    ruleGroupList: [],
    rateBasedRuleList: [],
    nonTerminatingMatchingRules: [],
    responseCodeSent: 403,
    httpRequest: {
      clientIp: '203.0.113.7',
      country: 'NL',
      headers: [
        { name: 'Host', value: 'shop.example.com' },
        { name: 'User-Agent', value: 'curl/8.5.0' },
      ],
      uri: '/products',
      args: 'id=1%27%20OR%201=1',
      httpVersion: 'HTTP/1.1',
      httpMethod: 'GET',
      requestId: '1-67a1b2c3-0123456789abcdef01234567',
    },
    labels: [{ name: 'awswaf:managed:aws:sql-database:SQLi_QueryArguments' }],
    ...overrides,
  };
}

/** A CloudTrail management event as a trail writes it to its CloudWatch Logs log group (one event per log event). */
export function cloudTrailRecord(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLEID:deployer',
      arn: 'arn:aws:sts::123456789012:assumed-role/deploy/deployer',
      accountId: '123456789012',
      accessKeyId: 'ASIAEXAMPLEKEY',
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAEXAMPLEID',
          arn: 'arn:aws:iam::123456789012:role/deploy',
          accountId: '123456789012',
          userName: 'deploy',
        },
        attributes: { creationDate: '2026-11-22T08:00:00Z', mfaAuthenticated: 'false' },
      },
    },
    eventTime: '2026-11-22T08:15:30Z',
    eventSource: 'ec2.amazonaws.com',
    eventName: 'TerminateInstances',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.23',
    userAgent: 'aws-cli/2.17.0 Python/3.12.4',
    errorCode: 'Client.UnauthorizedOperation',
    errorMessage: 'You are not authorized to perform this operation.',
    requestParameters: { instancesSet: { items: [{ instanceId: 'i-0abc1234def567890' }] } },
    responseElements: null,
    requestID: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE22222',
    eventID: 'e1f2a3b4-5678-90ab-cdef-EXAMPLE33333',
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '123456789012',
    eventCategory: 'Management',
    ...overrides,
  };
}

/** An EventBridge event as an API destination receives it (an EC2 state change, in the documented envelope). */
export function eventBridgeEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '123456789012',
    time: '2026-11-22T08:30:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc1234def567890'],
    detail: { 'instance-id': 'i-0abc1234def567890', state: 'stopping' },
    ...overrides,
  };
}
