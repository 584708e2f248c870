import { lookupMetric, type IndexedResource, type ScopeIndex } from './snapshot.ts';

/**
 * Log group names that name the resource writing to them, by AWS's own conventions, and the namespace
 * and dimension under which that resource is indexed.
 */
const CONVENTIONS: ReadonlyArray<{ pattern: RegExp; namespace: string }> = [
  { pattern: /^\/aws\/lambda\/(?<FunctionName>[^/]+)$/, namespace: 'AWS/Lambda' },
  { pattern: /^\/aws\/rds\/instance\/(?<DBInstanceIdentifier>[^/]+)\//, namespace: 'AWS/RDS' },
  { pattern: /^\/aws\/rds\/cluster\/(?<DBClusterIdentifier>[^/]+)\//, namespace: 'AWS/RDS' },
  { pattern: /^\/aws\/docdb\/(?<DBClusterIdentifier>[^/]+)\//, namespace: 'AWS/DocDB' },
  { pattern: /^\/aws\/neptune\/(?<DBClusterIdentifier>[^/]+)\//, namespace: 'AWS/Neptune' },
  { pattern: /^\/aws\/eks\/(?<ClusterName>[^/]+)\/cluster$/, namespace: 'AWS/EKS' },
  { pattern: /^\/aws\/containerinsights\/(?<ClusterName>[^/]+)\//, namespace: 'AWS/EKS' },
  { pattern: /^\/aws\/ecs\/containerinsights\/(?<ClusterName>[^/]+)\//, namespace: 'AWS/ECS' },
  { pattern: /^\/aws\/kinesisfirehose\/(?<DeliveryStreamName>[^/]+)$/, namespace: 'AWS/Firehose' },
];

/** CloudWatch agent's default log stream name is the instance id. */
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const API_GATEWAY_EXECUTION_LOGS = /^API-Gateway-Execution-Logs_(?<restApiId>[^/]+)\/(?<stage>.+)$/;

/**
 * The attributes to add to a CloudWatch Logs resource: those of the resource the log group or log stream
 * names (a Lambda function, an RDS instance, an EKS cluster, an EC2 instance …), then the log group's own
 * tags for keys the resource did not set. Undefined when nothing matches.
 */
export function logResourceAttributes(
  scope: ScopeIndex,
  logGroup: string,
  logStream: string,
): { attributes: Record<string, string>; owner: IndexedResource | undefined } | undefined {
  const owner = ownerOf(scope, logGroup, logStream);
  const group = scope.logGroups.get(logGroup);
  if (!owner && !group) return undefined;
  const attributes: Record<string, string> = { ...(group?.added ?? {}), ...(owner?.added ?? {}) };
  return { attributes, owner };
}

function ownerOf(scope: ScopeIndex, logGroup: string, logStream: string): IndexedResource | undefined {
  for (const { pattern, namespace } of CONVENTIONS) {
    const m = pattern.exec(logGroup);
    if (!m?.groups) continue;
    const hit = lookupMetric(scope, namespace, new Map(Object.entries(m.groups)));
    if (hit) return hit;
  }
  const api = API_GATEWAY_EXECUTION_LOGS.exec(logGroup);
  if (api?.groups) {
    const hit = scope.byArn.get(`arn:aws:apigateway:${scope.region}::/restapis/${api.groups.restApiId}`);
    if (hit) return hit;
  }
  if (INSTANCE_ID.test(logStream)) return lookupMetric(scope, 'AWS/EC2', new Map([['InstanceId', logStream]]));
  return undefined;
}
