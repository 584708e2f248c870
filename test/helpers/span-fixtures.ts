/**
 * Spans as CloudWatch Transaction Search writes them to the `aws/spans` log group, one JSON log event each,
 * shaped after the AWS "Transaction Search" and "Spans" documentation and public samples (no schema is
 * published): resource and scope, W3C ids, kind and status code as strings, times in nanoseconds as JSON
 * numbers beyond 2^53 (or strings), attributes as flat maps. Used by tests, the examples and the benchmark.
 */

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
/** 2026-11-18T09:46:40Z in nanoseconds, with digits a double cannot hold. */
export const T0 = 1_795_000_000_123_456_789n;

type Json = Record<string, unknown>;

/** JSON.rawJSON (Node 24; not in TypeScript's lib yet): a value JSON.stringify writes as the JSON text given. */
export const rawJson = (text: string): unknown => (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(text);

/** JSON text of a span: bigints written as the bare integers they are, as AWS writes nanoseconds. */
export function spanText(span: Json): string {
  return JSON.stringify(span, (_key, value: unknown) => (typeof value === 'bigint' ? rawJson(value.toString()) : value));
}

const lambdaResource = {
  attributes: {
    'cloud.provider': 'aws',
    'cloud.platform': 'aws_lambda',
    'cloud.region': REGION,
    'cloud.account.id': ACCOUNT,
    'faas.name': 'checkout',
    'faas.version': '$LATEST',
    'service.name': 'checkout',
    'telemetry.sdk.language': 'python',
    'aws.log.group.names': ['/aws/lambda/checkout'],
  },
};

/** A Lambda invocation: the function's server span, and its client span to DynamoDB that failed (an exception event, status ERROR). */
export function lambdaTrace(): Json[] {
  const traceId = '6739a8f0c1d2e3f4a5b6c7d8e9f00112';
  return [
    {
      resource: lambdaResource,
      scope: { name: 'opentelemetry.instrumentation.aws_lambda', version: '0.48b0' },
      traceId,
      spanId: 'a1b2c3d4e5f60718',
      parentSpanId: '',
      flags: 256,
      name: 'checkout',
      kind: 'SERVER',
      startTimeUnixNano: T0,
      endTimeUnixNano: T0 + 52_120_001n,
      durationNano: 52_120_001,
      attributes: {
        'faas.trigger': 'http',
        'faas.invocation_id': '6f1c2f3a-0b1d-4e5f-8a9b-0c1d2e3f4a5b',
        'cloud.resource_id': `arn:aws:lambda:${REGION}:${ACCOUNT}:function:checkout`,
        'http.request.method': 'POST',
        'http.response.status_code': 500,
        'aws.local.service': 'checkout',
        'aws.local.operation': 'POST /orders',
      },
      status: { code: 'ERROR', message: 'order not stored' },
    },
    {
      resource: lambdaResource,
      scope: { name: 'opentelemetry.instrumentation.botocore', version: '0.48b0' },
      traceId,
      spanId: 'b2c3d4e5f6071829',
      parentSpanId: 'a1b2c3d4e5f60718',
      flags: 256,
      name: 'DynamoDB.PutItem',
      kind: 'CLIENT',
      startTimeUnixNano: T0 + 4_000_000n,
      endTimeUnixNano: T0 + 49_876_543n,
      durationNano: 45_876_543,
      attributes: {
        'rpc.system': 'aws-api',
        'rpc.service': 'DynamoDB',
        'rpc.method': 'PutItem',
        'aws.dynamodb.table_names': ['orders'],
        'aws.request_id': 'R2D2C3PO0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123',
        'http.response.status_code': 400,
        'aws.remote.service': 'AWS::DynamoDB',
        retry_attempts: 2,
      },
      events: [
        {
          timeUnixNano: T0 + 49_800_000n,
          name: 'exception',
          attributes: {
            'exception.type': 'ConditionalCheckFailedException',
            'exception.message': 'The conditional request failed',
            'exception.escaped': false,
          },
        },
      ],
      status: { code: 'ERROR' },
    },
  ];
}

/** A span of an ECS service (ADOT sidecar): the task and cluster ARNs on the resource, times as strings, a link. */
export function ecsSpan(): Json {
  return {
    resource: {
      attributes: {
        'cloud.provider': 'aws',
        'cloud.platform': 'aws_ecs',
        'cloud.region': REGION,
        'cloud.account.id': ACCOUNT,
        'aws.ecs.cluster.arn': `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/shop`,
        'aws.ecs.task.arn': `arn:aws:ecs:${REGION}:${ACCOUNT}:task/shop/0f1e2d3c4b5a69788796a5b4c3d2e1f0`,
        'aws.ecs.launchtype': 'fargate',
        'service.name': 'cart',
      },
    },
    scope: { name: 'io.opentelemetry.spring-webmvc-6.0', version: '2.10.0-alpha' },
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '00f067aa0ba902b7',
    traceState: 'rojo=00f067aa0ba902b7',
    name: 'GET /cart/{id}',
    kind: 'SPAN_KIND_SERVER',
    startTimeUnixNano: String(T0 + 1_000_000_000n),
    endTimeUnixNano: String(T0 + 1_012_500_000n),
    attributes: { 'http.route': '/cart/{id}', 'http.request.method': 'GET', 'http.response.status_code': 200, 'server.port': 8080 },
    links: [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b8', attributes: { 'link.kind': 'follows_from' } }],
    status: { code: 'OK' },
  };
}

/** An X-Ray segment as Transaction Search converted it: X-Ray's trace id form, kind as a string, KeyValue[] attributes. */
export function xraySegmentSpan(): Json {
  return {
    resource: {
      attributes: [
        { key: 'cloud.provider', value: { stringValue: 'aws' } },
        { key: 'cloud.platform', value: { stringValue: 'aws_ec2' } },
        { key: 'host.id', value: { stringValue: 'i-0abc1234def567890' } },
        { key: 'service.name', value: { stringValue: 'legacy-api' } },
      ],
    },
    scope: { name: 'aws.xray', version: '' },
    traceId: '1-5759e988-bd862e3fe1be46a994272793',
    spanId: '53995c3f42cd8ad8',
    name: 'legacy-api',
    kind: 'SERVER',
    startTimeUnixNano: T0 + 2_000_000_000n,
    endTimeUnixNano: T0 + 2_100_000_000n,
    attributes: [
      { key: 'aws.xray.segment.origin', value: { stringValue: 'AWS::EC2::Instance' } },
      { key: 'http.response.status_code', value: { intValue: '200' } },
      { key: 'aws.xray.sampled', value: { boolValue: true } },
      { key: 'latency.seconds', value: { doubleValue: 0.1 } },
      { key: 'aws.xray.annotations', value: { kvlistValue: { values: [{ key: 'tier', value: { stringValue: 'gold' } }] } } },
    ],
    status: { code: 'UNSET' },
  };
}

/** Array attributes of every kind, integers beyond 2^53 and int64, and fields no span has (ignored). */
export function oddSpan(): Json {
  return {
    resource: { attributes: { 'service.name': 'odd' } },
    scope: { name: 'odd-scope' },
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
    name: 'odd',
    kind: 'INTERNAL',
    startTimeUnixNano: 18_446_744_073_709_551_615n - 1000n,
    endTimeUnixNano: 18_446_744_073_709_551_615n,
    attributes: {
      strings: ['a', 'b'],
      ints: [1, 2, 9_007_199_254_740_993n],
      doubles: [1.5, -2.25],
      bools: [true, false],
      mixed: ['x', 1, true, null],
      nested: { inner: { deep: 'yes' } },
      huge: 9_223_372_036_854_775_807n,
      negative: -9_223_372_036_854_775_808n,
      beyond: 99_999_999_999_999_999_999n,
      text_with_digits: 'id:12345678901234567890,',
    },
    '@timestamp': '2026-11-18T09:46:40Z',
    unknownField: { anything: [1, 2, 3] },
    durationNano: 1000,
  };
}

/** A CloudWatch Logs subscription message of `aws/spans`, one span per log event. */
export function spansMessage(spans: readonly Json[], logGroup = 'aws/spans'): Record<string, unknown> {
  return {
    messageType: 'DATA_MESSAGE',
    owner: ACCOUNT,
    logGroup,
    logStream: 'default',
    subscriptionFilters: ['firetap-spans'],
    logEvents: spans.map((s, i) => ({ id: `3${String(i).padStart(55, '0')}`, timestamp: Number(T0 / 1_000_000n + BigInt(i)), message: spanText(s) })),
  };
}
