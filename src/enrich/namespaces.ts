/**
 * Which CloudWatch dimensions identify a resource in each namespace, and how to read them from the
 * resource's ARN (after YACE's associator model; see shared/design/ENRICHMENT.md). Data, not code:
 * a regex per dimension set, its named groups being the dimension names (`_` stands for a space, as in
 * `Cluster Name`). Dimension sets are tried most specific first.
 */
export interface NamespaceSpec {
  readonly namespace: string;
  /** ResourceTypeFilters for tag:GetResources. */
  readonly resourceTypes: readonly string[];
  readonly keys: readonly RegExp[];
  /** Rewrites a dimension value before lookup (ARNs lower-case some names, brokers add -1/-2). */
  readonly fixValue?: (dimension: string, value: string) => string;
}

/** `arn:<partition>:<service>:<region>:<account>:<rest>` with `rest` as given (a regex source). */
const arn = (service: string, rest: string): RegExp => new RegExp(`^arn:aws[a-z-]*:${service}:[^:]*:[^:]*:${rest}$`);
const wholeArn = (group: string, service: string, rest: string): RegExp => new RegExp(`^(?<${group}>arn:aws[a-z-]*:${service}:[^:]*:[^:]*:${rest})$`);

const RDS_KEYS = [arn('rds', 'db:(?<DBInstanceIdentifier>[^:/]+)'), arn('rds', 'cluster:(?<DBClusterIdentifier>[^:/]+)')];
const ELB_KEYS = (kind: string) => [
  arn('elasticloadbalancing', '(?<TargetGroup>targetgroup/[^/]+/[^/]+)'),
  arn('elasticloadbalancing', `loadbalancer/(?<LoadBalancer>${kind}/[^/]+/[^/]+)`),
];
const ECS_KEYS = [arn('ecs', 'service/(?<ClusterName>[^/]+)/(?<ServiceName>[^/]+)'), arn('ecs', 'cluster/(?<ClusterName>[^/]+)')];
const EKS_KEYS = [arn('eks', 'cluster/(?<ClusterName>[^/]+)')];

export const NAMESPACES: readonly NamespaceSpec[] = [
  { namespace: 'AWS/EC2', resourceTypes: ['ec2:instance'], keys: [arn('ec2', 'instance/(?<InstanceId>[^/]+)')] },
  { namespace: 'CWAgent', resourceTypes: ['ec2:instance'], keys: [arn('ec2', 'instance/(?<InstanceId>[^/]+)')] },
  { namespace: 'AWS/EBS', resourceTypes: ['ec2:volume'], keys: [arn('ec2', 'volume/(?<VolumeId>[^/]+)')] },
  { namespace: 'AWS/RDS', resourceTypes: ['rds:db', 'rds:cluster'], keys: RDS_KEYS },
  { namespace: 'AWS/DocDB', resourceTypes: ['rds:db', 'rds:cluster'], keys: RDS_KEYS },
  { namespace: 'AWS/Neptune', resourceTypes: ['rds:db', 'rds:cluster'], keys: RDS_KEYS },
  {
    namespace: 'AWS/ELB',
    resourceTypes: ['elasticloadbalancing:loadbalancer'],
    keys: [arn('elasticloadbalancing', 'loadbalancer/(?<LoadBalancerName>[^/]+)')],
  },
  { namespace: 'AWS/ApplicationELB', resourceTypes: ['elasticloadbalancing:loadbalancer/app', 'elasticloadbalancing:targetgroup'], keys: ELB_KEYS('app') },
  { namespace: 'AWS/NetworkELB', resourceTypes: ['elasticloadbalancing:loadbalancer/net', 'elasticloadbalancing:targetgroup'], keys: ELB_KEYS('net') },
  { namespace: 'AWS/GatewayELB', resourceTypes: ['elasticloadbalancing:loadbalancer/gwy', 'elasticloadbalancing:targetgroup'], keys: ELB_KEYS('gwy') },
  { namespace: 'AWS/Lambda', resourceTypes: ['lambda:function'], keys: [arn('lambda', 'function:(?<FunctionName>[^:/]+)')] },
  { namespace: 'AWS/DynamoDB', resourceTypes: ['dynamodb:table'], keys: [arn('dynamodb', 'table/(?<TableName>[^/]+)')] },
  { namespace: 'AWS/ECS', resourceTypes: ['ecs:cluster', 'ecs:service'], keys: ECS_KEYS },
  { namespace: 'ECS/ContainerInsights', resourceTypes: ['ecs:cluster', 'ecs:service'], keys: ECS_KEYS },
  { namespace: 'AWS/EKS', resourceTypes: ['eks:cluster'], keys: EKS_KEYS },
  { namespace: 'ContainerInsights', resourceTypes: ['eks:cluster'], keys: EKS_KEYS },
  { namespace: 'AWS/S3', resourceTypes: ['s3'], keys: [/^arn:aws[a-z-]*:s3:::(?<BucketName>[^/]+)$/] },
  { namespace: 'AWS/SQS', resourceTypes: ['sqs'], keys: [arn('sqs', '(?<QueueName>[^:/]+)')] },
  { namespace: 'AWS/SNS', resourceTypes: ['sns'], keys: [arn('sns', '(?<TopicName>[^:/]+)')] },
  { namespace: 'AWS/Kinesis', resourceTypes: ['kinesis:stream'], keys: [arn('kinesis', 'stream/(?<StreamName>[^/]+)')] },
  { namespace: 'AWS/Firehose', resourceTypes: ['firehose:deliverystream'], keys: [arn('firehose', 'deliverystream/(?<DeliveryStreamName>[^/]+)')] },
  {
    namespace: 'AWS/ApiGateway',
    resourceTypes: ['apigateway:/apis', 'apigateway:/apis/stages'],
    keys: [arn('apigateway', '/apis/(?<ApiId>[^/]+)/stages/(?<Stage>[^/]+)'), arn('apigateway', '/apis/(?<ApiId>[^/]+)')],
  },
  { namespace: 'AWS/CloudFront', resourceTypes: ['cloudfront:distribution'], keys: [arn('cloudfront', 'distribution/(?<DistributionId>[^/]+)')] },
  {
    namespace: 'AWS/ElastiCache',
    resourceTypes: ['elasticache:cluster', 'elasticache:serverlesscache'],
    keys: [arn('elasticache', 'cluster:(?<CacheClusterId>[^:/]+)'), arn('elasticache', 'serverlesscache:(?<clusterId>[^:/]+)')],
  },
  { namespace: 'AWS/MemoryDB', resourceTypes: ['memorydb:cluster'], keys: [arn('memorydb', 'cluster/(?<ClusterName>[^/]+)')] },
  { namespace: 'AWS/Redshift', resourceTypes: ['redshift:cluster'], keys: [arn('redshift', 'cluster:(?<ClusterIdentifier>[^:/]+)')] },
  { namespace: 'AWS/ES', resourceTypes: ['es:domain'], keys: [arn('es', 'domain/(?<DomainName>[^/]+)')] },
  { namespace: 'AWS/AOSS', resourceTypes: ['aoss:collection'], keys: [arn('aoss', 'collection/(?<CollectionId>[^/]+)')] },
  { namespace: 'AWS/Kafka', resourceTypes: ['kafka:cluster'], keys: [arn('kafka', 'cluster/(?<Cluster_Name>[^/]+)/[^/]+')] },
  { namespace: 'AWS/KafkaConnect', resourceTypes: ['kafkaconnect:connector'], keys: [arn('kafkaconnect', 'connector/(?<Connector_Name>[^/]+)/[^/]+')] },
  { namespace: 'AWS/States', resourceTypes: ['states:stateMachine'], keys: [wholeArn('StateMachineArn', 'states', 'stateMachine:[^:]+')] },
  { namespace: 'AWS/NATGateway', resourceTypes: ['ec2:natgateway'], keys: [arn('ec2', 'natgateway/(?<NatGatewayId>[^/]+)')] },
  { namespace: 'AWS/TransitGateway', resourceTypes: ['ec2:transit-gateway'], keys: [arn('ec2', 'transit-gateway/(?<TransitGateway>[^/]+)')] },
  { namespace: 'AWS/EFS', resourceTypes: ['elasticfilesystem:file-system'], keys: [arn('elasticfilesystem', 'file-system/(?<FileSystemId>[^/]+)')] },
  { namespace: 'AWS/FSx', resourceTypes: ['fsx:file-system'], keys: [arn('fsx', 'file-system/(?<FileSystemId>[^/]+)')] },
  {
    namespace: 'AWS/AutoScaling',
    resourceTypes: ['autoscaling:autoScalingGroup'],
    keys: [arn('autoscaling', 'autoScalingGroup:[^:]+:autoScalingGroupName/(?<AutoScalingGroupName>.+)')],
  },
  { namespace: 'AWS/Logs', resourceTypes: ['logs:log-group'], keys: [arn('logs', 'log-group:(?<LogGroupName>[^:]+)(?::\\*)?')] },
  {
    namespace: 'AWS/AmazonMQ',
    resourceTypes: ['mq:broker'],
    keys: [arn('mq', 'broker:(?<Broker>[^:]+):[^:]+')],
    // Active/standby brokers report as <name>-1 and <name>-2.
    fixValue: (dimension, value) => (dimension === 'Broker' ? value.replace(/-[12]$/, '') : value),
  },
  {
    namespace: 'AWS/WAFV2',
    resourceTypes: ['wafv2:regional/webacl', 'wafv2:global/webacl'],
    keys: [arn('wafv2', '(?:regional|global)/webacl/(?<WebACL>[^/]+)/[^/]+')],
  },
  { namespace: 'AWS/Route53', resourceTypes: ['route53:healthcheck'], keys: [arn('route53', 'healthcheck/(?<HealthCheckId>[^/]+)')] },
  {
    namespace: 'AWS/Events',
    resourceTypes: ['events:rule'],
    keys: [arn('events', 'rule/(?<EventBusName>[^/]+)/(?<RuleName>[^/]+)'), arn('events', 'rule/(?<RuleName>[^/]+)')],
  },
  { namespace: 'AWS/KMS', resourceTypes: ['kms:key'], keys: [arn('kms', 'key/(?<KeyId>[^/]+)')] },
  { namespace: 'AWS/CertificateManager', resourceTypes: ['acm:certificate'], keys: [wholeArn('CertificateArn', 'acm', 'certificate/[^/]+')] },
  { namespace: 'AWS/ElasticMapReduce', resourceTypes: ['elasticmapreduce:cluster'], keys: [arn('elasticmapreduce', 'cluster/(?<JobFlowId>[^/]+)')] },
  {
    namespace: 'AWS/SageMaker',
    resourceTypes: ['sagemaker:endpoint'],
    keys: [arn('sagemaker', 'endpoint/(?<EndpointName>[^/]+)')],
    // SageMaker ARNs hold names in lower case; the EndpointName dimension keeps the user's case.
    fixValue: (dimension, value) => (dimension === 'EndpointName' ? value.toLowerCase() : value),
  },
  { namespace: 'Glue', resourceTypes: ['glue:job'], keys: [arn('glue', 'job/(?<JobName>[^/]+)')] },
  { namespace: 'AWS/Cognito', resourceTypes: ['cognito-idp:userpool'], keys: [arn('cognito-idp', 'userpool/(?<UserPool>[^/]+)')] },
  { namespace: 'AWS/VPN', resourceTypes: ['ec2:vpn-connection'], keys: [arn('ec2', 'vpn-connection/(?<VpnId>[^/]+)')] },
  { namespace: 'AWS/DX', resourceTypes: ['directconnect:dxcon'], keys: [arn('directconnect', 'dxcon/(?<ConnectionId>[^/]+)')] },
  { namespace: 'AWS/PrivateLinkEndpoints', resourceTypes: ['ec2:vpc-endpoint'], keys: [arn('ec2', 'vpc-endpoint/(?<VPC_Endpoint_Id>[^/]+)')] },
  { namespace: 'AWS/NetworkFirewall', resourceTypes: ['network-firewall:firewall'], keys: [arn('network-firewall', 'firewall/(?<FirewallName>[^/]+)')] },
  {
    namespace: 'AWS/GlobalAccelerator',
    resourceTypes: ['globalaccelerator:accelerator'],
    keys: [arn('globalaccelerator', 'accelerator/(?<Accelerator>[^/]+)')],
  },
  { namespace: 'AWS/AppSync', resourceTypes: ['appsync:apis'], keys: [arn('appsync', 'apis/(?<GraphQLAPIId>[^/]+)')] },
  { namespace: 'AWS/Athena', resourceTypes: ['athena:workgroup'], keys: [arn('athena', 'workgroup/(?<WorkGroup>[^/]+)')] },
  { namespace: 'AWS/Backup', resourceTypes: ['backup:backup-vault'], keys: [arn('backup', 'backup-vault:(?<BackupVaultName>[^:/]+)')] },
  {
    namespace: 'AWS/ElasticBeanstalk',
    resourceTypes: ['elasticbeanstalk:environment'],
    keys: [arn('elasticbeanstalk', 'environment/[^/]+/(?<EnvironmentName>[^/]+)')],
  },
];

/** The dimension names of a key regex, in the order they appear (`_` read as a space). */
export function dimensionsOf(key: RegExp): string[] {
  return [...key.source.matchAll(/\(\?<([A-Za-z_]+)>/g)].map((m) => m[1]!.replaceAll('_', ' '));
}

/** Reads dimension values out of an ARN with one key regex, or undefined when it does not match. */
export function dimensionsFromArn(key: RegExp, resourceArn: string): Record<string, string> | undefined {
  const m = key.exec(resourceArn);
  if (!m?.groups) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.groups)) if (value !== undefined) out[name.replaceAll('_', ' ')] = value;
  return out;
}

/** Every ResourceTypeFilter to ask tag:GetResources for, once each. */
export const ALL_RESOURCE_TYPES: readonly string[] = [...new Set(NAMESPACES.flatMap((n) => n.resourceTypes))];

export const NAMESPACE_BY_NAME: ReadonlyMap<string, NamespaceSpec> = new Map(NAMESPACES.map((n) => [n.namespace, n]));
