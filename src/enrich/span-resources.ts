import { logResourceAttributes } from './log-groups.ts';
import { lookupMetric, type IndexedResource, type ScopeIndex } from './snapshot.ts';

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The AWS resource a span's resource attributes name, by the semantic conventions ADOT and X-Ray write:
 * `cloud.resource_id` (an ARN), `faas.name` (a Lambda function), `aws.ecs.task.arn` / `aws.ecs.cluster.arn`,
 * `host.id` (an EC2 instance), else the first of `aws.log.group.names`. Undefined when none is known.
 */
export function spanResourceAttributes(scope: ScopeIndex, attributes: Readonly<Record<string, unknown>>): Record<string, string> | undefined {
  const owner = ownerOf(scope, attributes);
  if (owner) return { ...owner.added };
  const groups = attributes['aws.log.group.names'];
  const group = Array.isArray(groups) ? text(groups[0]) : text(groups);
  return group ? logResourceAttributes(scope, group, '')?.attributes : undefined;
}

function ownerOf(scope: ScopeIndex, a: Readonly<Record<string, unknown>>): IndexedResource | undefined {
  for (const key of ['cloud.resource_id', 'faas.id', 'aws.ecs.task.arn', 'aws.ecs.container.arn', 'aws.ecs.cluster.arn']) {
    const arn = text(a[key]);
    const hit = arn ? scope.byArn.get(arn) : undefined;
    if (hit) return hit;
  }
  const fn = text(a['faas.name']);
  if (fn) {
    const hit = lookupMetric(scope, 'AWS/Lambda', new Map([['FunctionName', fn]]));
    if (hit) return hit;
  }
  const host = text(a['host.id']);
  return host && INSTANCE_ID.test(host) ? lookupMetric(scope, 'AWS/EC2', new Map([['InstanceId', host]])) : undefined;
}
