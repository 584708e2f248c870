import { describe, expect, it } from 'vitest';
import { NAMESPACES } from '../../../src/enrich/namespaces.ts';
import { buildScopeIndex, lookupMetric, type DiscoveredResource } from '../../../src/enrich/snapshot.ts';
import { logResourceAttributes } from '../../../src/enrich/log-groups.ts';

const A = '123456789012';
const R = 'eu-west-1';
const resource = (arn: string, tags: Record<string, string> = { team: 'payments' }): DiscoveredResource => ({ arn, tags, attributes: {}, sources: ['test'] });
const all = { include: [], exclude: [] };

/** namespace, a realistic ARN, and the dimensions CloudWatch puts on its metrics. */
const CASES: Array<[string, string, Record<string, string>]> = [
  ['AWS/EC2', `arn:aws:ec2:${R}:${A}:instance/i-0abc1234def567890`, { InstanceId: 'i-0abc1234def567890' }],
  ['CWAgent', `arn:aws:ec2:${R}:${A}:instance/i-0abc1234def567890`, { InstanceId: 'i-0abc1234def567890', path: '/', fstype: 'xfs' }],
  ['AWS/EBS', `arn:aws:ec2:${R}:${A}:volume/vol-049df61146c4d7901`, { VolumeId: 'vol-049df61146c4d7901' }],
  ['AWS/RDS', `arn:aws:rds:${R}:${A}:db:orders-primary`, { DBInstanceIdentifier: 'orders-primary' }],
  ['AWS/RDS', `arn:aws:rds:${R}:${A}:cluster:orders-aurora`, { DBClusterIdentifier: 'orders-aurora', Role: 'WRITER' }],
  ['AWS/DocDB', `arn:aws:rds:${R}:${A}:cluster:catalog-docdb`, { DBClusterIdentifier: 'catalog-docdb' }],
  ['AWS/Neptune', `arn:aws:rds:${R}:${A}:db:graph-1`, { DBInstanceIdentifier: 'graph-1' }],
  ['AWS/ELB', `arn:aws:elasticloadbalancing:${R}:${A}:loadbalancer/legacy-web`, { LoadBalancerName: 'legacy-web' }],
  ['AWS/ApplicationELB', `arn:aws:elasticloadbalancing:${R}:${A}:loadbalancer/app/web/50dc6c495c0c9188`, { LoadBalancer: 'app/web/50dc6c495c0c9188' }],
  [
    'AWS/ApplicationELB',
    `arn:aws:elasticloadbalancing:${R}:${A}:targetgroup/web-tg/73e2d6bc24d8a067`,
    { LoadBalancer: 'app/web/50dc6c495c0c9188', TargetGroup: 'targetgroup/web-tg/73e2d6bc24d8a067', AvailabilityZone: 'eu-west-1a' },
  ],
  ['AWS/NetworkELB', `arn:aws:elasticloadbalancing:${R}:${A}:loadbalancer/net/edge/1f2e3d4c5b6a7988`, { LoadBalancer: 'net/edge/1f2e3d4c5b6a7988' }],
  ['AWS/GatewayELB', `arn:aws:elasticloadbalancing:${R}:${A}:loadbalancer/gwy/inspect/0a1b2c3d4e5f6071`, { LoadBalancer: 'gwy/inspect/0a1b2c3d4e5f6071' }],
  ['AWS/Lambda', `arn:aws:lambda:${R}:${A}:function:checkout`, { FunctionName: 'checkout', Resource: 'checkout' }],
  ['AWS/DynamoDB', `arn:aws:dynamodb:${R}:${A}:table/sessions`, { TableName: 'sessions', Operation: 'GetItem' }],
  ['AWS/ECS', `arn:aws:ecs:${R}:${A}:cluster/prod`, { ClusterName: 'prod' }],
  ['AWS/ECS', `arn:aws:ecs:${R}:${A}:service/prod/checkout-api`, { ClusterName: 'prod', ServiceName: 'checkout-api' }],
  [
    'ECS/ContainerInsights',
    `arn:aws:ecs:${R}:${A}:service/prod/checkout-api`,
    { ClusterName: 'prod', ServiceName: 'checkout-api', TaskDefinitionFamily: 'checkout' },
  ],
  ['AWS/EKS', `arn:aws:eks:${R}:${A}:cluster/platform`, { ClusterName: 'platform' }],
  ['ContainerInsights', `arn:aws:eks:${R}:${A}:cluster/platform`, { ClusterName: 'platform', Namespace: 'default', PodName: 'api' }],
  ['AWS/S3', 'arn:aws:s3:::acme-invoices', { BucketName: 'acme-invoices', StorageType: 'StandardStorage' }],
  ['AWS/SQS', `arn:aws:sqs:${R}:${A}:orders-dlq`, { QueueName: 'orders-dlq' }],
  ['AWS/SNS', `arn:aws:sns:${R}:${A}:order-events`, { TopicName: 'order-events' }],
  ['AWS/Kinesis', `arn:aws:kinesis:${R}:${A}:stream/clickstream`, { StreamName: 'clickstream' }],
  ['AWS/Firehose', `arn:aws:firehose:${R}:${A}:deliverystream/metrics-to-firetap`, { DeliveryStreamName: 'metrics-to-firetap' }],
  ['AWS/ApiGateway', `arn:aws:apigateway:${R}::/apis/a1b2c3d4e5`, { ApiId: 'a1b2c3d4e5' }],
  ['AWS/ApiGateway', `arn:aws:apigateway:${R}::/apis/a1b2c3d4e5/stages/prod`, { ApiId: 'a1b2c3d4e5', Stage: 'prod' }],
  ['AWS/CloudFront', `arn:aws:cloudfront::${A}:distribution/E2QWRUHAPOMQZL`, { DistributionId: 'E2QWRUHAPOMQZL', Region: 'Global' }],
  ['AWS/ElastiCache', `arn:aws:elasticache:${R}:${A}:cluster:sessions-0001-001`, { CacheClusterId: 'sessions-0001-001', CacheNodeId: '0001' }],
  ['AWS/ElastiCache', `arn:aws:elasticache:${R}:${A}:serverlesscache:cart`, { clusterId: 'cart' }],
  ['AWS/MemoryDB', `arn:aws:memorydb:${R}:${A}:cluster/ledger`, { ClusterName: 'ledger' }],
  ['AWS/Redshift', `arn:aws:redshift:${R}:${A}:cluster:analytics`, { ClusterIdentifier: 'analytics', NodeID: 'Leader' }],
  ['AWS/ES', `arn:aws:es:${R}:${A}:domain/search`, { DomainName: 'search', ClientId: A }],
  ['AWS/AOSS', `arn:aws:aoss:${R}:${A}:collection/07tjusf2h91cunochc`, { CollectionId: '07tjusf2h91cunochc', CollectionName: 'logs' }],
  ['AWS/Kafka', `arn:aws:kafka:${R}:${A}:cluster/events/7d0e4a1c-93b2-4c5e-8f7a-1b2c3d4e5f60-2`, { 'Cluster Name': 'events', 'Broker ID': '1' }],
  ['AWS/KafkaConnect', `arn:aws:kafkaconnect:${R}:${A}:connector/s3-sink/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9-3`, { 'Connector Name': 's3-sink' }],
  ['AWS/States', `arn:aws:states:${R}:${A}:stateMachine:order-flow`, { StateMachineArn: `arn:aws:states:${R}:${A}:stateMachine:order-flow` }],
  ['AWS/NATGateway', `arn:aws:ec2:${R}:${A}:natgateway/nat-0a1b2c3d4e5f60718`, { NatGatewayId: 'nat-0a1b2c3d4e5f60718' }],
  ['AWS/TransitGateway', `arn:aws:ec2:${R}:${A}:transit-gateway/tgw-0262a0e521EXAMPLE`, { TransitGateway: 'tgw-0262a0e521EXAMPLE' }],
  ['AWS/EFS', `arn:aws:elasticfilesystem:${R}:${A}:file-system/fs-0123456789abcdef0`, { FileSystemId: 'fs-0123456789abcdef0' }],
  ['AWS/FSx', `arn:aws:fsx:${R}:${A}:file-system/fs-0498eed5fe91001ec`, { FileSystemId: 'fs-0498eed5fe91001ec' }],
  [
    'AWS/AutoScaling',
    `arn:aws:autoscaling:${R}:${A}:autoScalingGroup:5a3d2b1c-0e9f-8a7b-6c5d-4e3f2a1b0c9d:autoScalingGroupName/web-asg`,
    { AutoScalingGroupName: 'web-asg' },
  ],
  ['AWS/Logs', `arn:aws:logs:${R}:${A}:log-group:/aws/lambda/checkout`, { LogGroupName: '/aws/lambda/checkout' }],
  ['AWS/AmazonMQ', `arn:aws:mq:${R}:${A}:broker:orders-broker:b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9`, { Broker: 'orders-broker-1' }],
  ['AWS/WAFV2', `arn:aws:wafv2:${R}:${A}:regional/webacl/edge-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111`, { WebACL: 'edge-acl', Rule: 'ALL', Region: R }],
  ['AWS/Route53', `arn:aws:route53:::healthcheck/abcdef11-2222-3333-4444-555555fedcba`, { HealthCheckId: 'abcdef11-2222-3333-4444-555555fedcba' }],
  ['AWS/Events', `arn:aws:events:${R}:${A}:rule/orders-bus/order-created`, { EventBusName: 'orders-bus', RuleName: 'order-created' }],
  ['AWS/Events', `arn:aws:events:${R}:${A}:rule/nightly-report`, { RuleName: 'nightly-report' }],
  ['AWS/KMS', `arn:aws:kms:${R}:${A}:key/1234abcd-12ab-34cd-56ef-1234567890ab`, { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }],
  [
    'AWS/CertificateManager',
    `arn:aws:acm:${R}:${A}:certificate/12345678-1234-1234-1234-123456789012`,
    { CertificateArn: `arn:aws:acm:${R}:${A}:certificate/12345678-1234-1234-1234-123456789012` },
  ],
  ['AWS/ElasticMapReduce', `arn:aws:elasticmapreduce:${R}:${A}:cluster/j-3SD91U2E1L2QX`, { JobFlowId: 'j-3SD91U2E1L2QX' }],
  ['AWS/SageMaker', `arn:aws:sagemaker:${R}:${A}:endpoint/fraud-model`, { EndpointName: 'Fraud-Model', VariantName: 'AllTraffic' }],
  ['Glue', `arn:aws:glue:${R}:${A}:job/nightly-etl`, { JobName: 'nightly-etl', JobRunId: 'ALL', Type: 'gauge' }],
  ['AWS/Cognito', `arn:aws:cognito-idp:${R}:${A}:userpool/eu-west-1_aBcDeFgHi`, { UserPool: 'eu-west-1_aBcDeFgHi' }],
  ['AWS/VPN', `arn:aws:ec2:${R}:${A}:vpn-connection/vpn-0f1e2d3c4b5a69788`, { VpnId: 'vpn-0f1e2d3c4b5a69788' }],
  ['AWS/DX', `arn:aws:directconnect:${R}:${A}:dxcon/dxcon-fg5678gh`, { ConnectionId: 'dxcon-fg5678gh' }],
  [
    'AWS/PrivateLinkEndpoints',
    `arn:aws:ec2:${R}:${A}:vpc-endpoint/vpce-0a1b2c3d4e5f60718`,
    { 'VPC Endpoint Id': 'vpce-0a1b2c3d4e5f60718', 'Service Name': 'com.amazonaws.eu-west-1.s3' },
  ],
  ['AWS/NetworkFirewall', `arn:aws:network-firewall:${R}:${A}:firewall/egress`, { FirewallName: 'egress', AvailabilityZone: 'eu-west-1a' }],
  [
    'AWS/GlobalAccelerator',
    `arn:aws:globalaccelerator::${A}:accelerator/1234abcd-abcd-1234-abcd-1234abcdefgh`,
    { Accelerator: '1234abcd-abcd-1234-abcd-1234abcdefgh' },
  ],
  ['AWS/AppSync', `arn:aws:appsync:${R}:${A}:apis/abcdefghijklmnopqrstuvwxyz`, { GraphQLAPIId: 'abcdefghijklmnopqrstuvwxyz' }],
  ['AWS/Athena', `arn:aws:athena:${R}:${A}:workgroup/analysts`, { WorkGroup: 'analysts' }],
  ['AWS/Backup', `arn:aws:backup:${R}:${A}:backup-vault:prod-vault`, { BackupVaultName: 'prod-vault' }],
  ['AWS/ElasticBeanstalk', `arn:aws:elasticbeanstalk:${R}:${A}:environment/shop/shop-prod`, { EnvironmentName: 'shop-prod' }],
];

describe('the namespace table', () => {
  it('covers every namespace it declares with a case here', () => {
    const tested = new Set(CASES.map(([ns]) => ns));
    expect(NAMESPACES.map((n) => n.namespace).filter((ns) => !tested.has(ns))).toEqual([]);
    expect(NAMESPACES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)('matches %s from %s', (namespace, resourceArn, dimensions) => {
    const decoy = resource(
      resourceArn.replace(/[a-z0-9]$/, (c) => (c === 'x' ? 'y' : 'x')),
      { team: 'decoy' },
    );
    const scope = buildScopeIndex(A, R, [decoy, resource(resourceArn)], all);
    const hit = lookupMetric(scope, namespace, new Map(Object.entries(dimensions)));
    expect(hit?.arn).toBe(resourceArn);
    expect(hit?.added).toMatchObject({ 'cloud.resource_id': resourceArn, 'aws.tag.team': 'payments' });
  });
});

describe('lookup', () => {
  it('prefers the most specific dimension set: an ECS service over its cluster', () => {
    const scope = buildScopeIndex(
      A,
      R,
      [resource(`arn:aws:ecs:${R}:${A}:cluster/prod`, { level: 'cluster' }), resource(`arn:aws:ecs:${R}:${A}:service/prod/api`, { level: 'service' })],
      all,
    );
    expect(
      lookupMetric(
        scope,
        'AWS/ECS',
        new Map([
          ['ClusterName', 'prod'],
          ['ServiceName', 'api'],
        ]),
      )?.tags.level,
    ).toBe('service');
    expect(lookupMetric(scope, 'AWS/ECS', new Map([['ClusterName', 'prod']]))?.tags.level).toBe('cluster');
  });

  it('misses a data point whose resource is unknown, or whose namespace has no table entry', () => {
    const scope = buildScopeIndex(A, R, [resource(`arn:aws:sqs:${R}:${A}:orders`)], all);
    expect(lookupMetric(scope, 'AWS/SQS', new Map([['QueueName', 'other']]))).toBeUndefined();
    expect(lookupMetric(scope, 'AWS/Usage', new Map([['Service', 'SQS']]))).toBeUndefined();
    expect(lookupMetric(scope, 'AWS/SQS', new Map())).toBeUndefined();
  });

  it('attaches only the tag keys allowed, never the excluded ones', () => {
    const r = resource(`arn:aws:sqs:${R}:${A}:orders`, { team: 'payments', env: 'prod', secret: 'x', CostCenter: '42' });
    expect(buildScopeIndex(A, R, [r], { include: ['team', 'env', 'secret'], exclude: ['secret'] }).byArn.get(r.arn)?.added).toEqual({
      'cloud.resource_id': r.arn,
      'aws.tag.team': 'payments',
      'aws.tag.env': 'prod',
    });
  });
});

describe('log groups and streams', () => {
  const fn = resource(`arn:aws:lambda:${R}:${A}:function:checkout`, { team: 'payments', env: 'prod' });
  const group = resource(`arn:aws:logs:${R}:${A}:log-group:/aws/lambda/checkout`, { team: 'logs-team', retention: 'short' });
  const db = resource(`arn:aws:rds:${R}:${A}:db:orders`, { team: 'data' });
  const eks = resource(`arn:aws:eks:${R}:${A}:cluster/platform`, { team: 'platform' });
  const vm = resource(`arn:aws:ec2:${R}:${A}:instance/i-0abc1234def567890`, { team: 'ops' });
  const api = resource(`arn:aws:apigateway:${R}::/restapis/a1b2c3d4e5`, { team: 'edge' });
  const scope = buildScopeIndex(A, R, [fn, group, db, eks, vm, api], all);

  it.each([
    ['/aws/lambda/checkout', '2026/11/22/[$LATEST]abc', fn.arn, 'payments'],
    ['/aws/rds/instance/orders/postgresql', 'orders.0', db.arn, 'data'],
    ['/aws/eks/platform/cluster', 'kube-apiserver-1', eks.arn, 'platform'],
    ['/var/log/messages', 'i-0abc1234def567890', vm.arn, 'ops'],
    ['API-Gateway-Execution-Logs_a1b2c3d4e5/prod', 'abc', api.arn, 'edge'],
  ])('%s / %s belongs to %s', (logGroup, logStream, owner, team) => {
    const found = logResourceAttributes(scope, logGroup, logStream);
    expect(found?.attributes).toMatchObject({ 'cloud.resource_id': owner, 'aws.tag.team': team });
  });

  it("adds the log group's own tags for keys the owning resource does not set", () => {
    expect(logResourceAttributes(scope, '/aws/lambda/checkout', 's')?.attributes).toMatchObject({
      'aws.tag.team': 'payments',
      'aws.tag.env': 'prod',
      'aws.tag.retention': 'short',
    });
  });

  it('finds nothing for a log group that names nothing known', () => {
    expect(logResourceAttributes(scope, '/app/unknown', 'stream-1')).toBeUndefined();
  });
});
