import { EC2Client, paginateDescribeInstances, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { ECSClient, DescribeClustersCommand, paginateListClusters } from '@aws-sdk/client-ecs';
import { LambdaClient, paginateListFunctions } from '@aws-sdk/client-lambda';
import { RDSClient, paginateDescribeDBClusters, paginateDescribeDBInstances } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient, paginateGetResources } from '@aws-sdk/client-resource-groups-tagging-api';
import { ALL_RESOURCE_TYPES } from './namespaces.ts';
import type { DiscoveredResource } from './snapshot.ts';

export type Credentials = NonNullable<EC2ClientConfig['credentials']>;

/** One account in one region, with the credentials that see it. */
export interface ScopeTarget {
  readonly account: string;
  readonly region: string;
  readonly credentials: Credentials;
}

export interface DiscoveryHooks {
  /** Called once per AWS API call (a page is a call), for metrics. */
  onCall?(api: string): void;
  readonly abortSignal?: AbortSignal;
}

interface Found {
  arn: string;
  tags?: Record<string, string>;
  attributes?: Record<string, string>;
  source: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the middleware stack of any SDK client, whatever its input and output types
type Client = { middlewareStack: { add: (...args: any[]) => void } };

/**
 * Lists every resource of one scope that firetap can attach tags for: the Tagging API for tags of every
 * resource type in the namespace table, and the service APIs for attributes and for resources the
 * Tagging API does not return (it knows only resources that are or were tagged). Each API is paged
 * through once. Throws when any API fails (after the SDK's own retries), so that the caller keeps the
 * previous snapshot of the scope rather than a partial one.
 */
export async function discoverScope(target: ScopeTarget, hooks: DiscoveryHooks = {}): Promise<DiscoveredResource[]> {
  const config = { region: target.region, credentials: target.credentials, maxAttempts: 5, retryMode: 'standard' as const };
  const count = <C extends Client>(client: C, service: string): C => {
    client.middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
        hooks.onCall?.(`${service}:${(context.commandName ?? '').replace(/Command$/, '')}`);
        return next(args);
      },
      { step: 'initialize', name: 'firetapCallCounter' },
    );
    return client;
  };
  const clients = {
    tagging: count(new ResourceGroupsTaggingAPIClient(config), 'tag'),
    ec2: count(new EC2Client(config), 'ec2'),
    rds: count(new RDSClient(config), 'rds'),
    ecs: count(new ECSClient(config), 'ecs'),
    lambda: count(new LambdaClient(config), 'lambda'),
  };
  const opts = { abortSignal: hooks.abortSignal };
  const partition = partitionOf(target.region);
  try {
    const results = await Promise.all([
      labeled('tag:GetResources', tagging(clients.tagging, opts)),
      labeled('ec2:DescribeInstances', ec2Instances(clients.ec2, partition, target, opts)),
      labeled('rds:DescribeDBInstances', rdsInstances(clients.rds, opts)),
      labeled('rds:DescribeDBClusters', rdsClusters(clients.rds, opts)),
      labeled('ecs:ListClusters/DescribeClusters', ecsClusters(clients.ecs, opts)),
      labeled('lambda:ListFunctions', lambdaFunctions(clients.lambda, opts)),
    ]);
    return merge(results.flat());
  } finally {
    for (const c of Object.values(clients)) c.destroy();
  }
}

/** An AWS API that failed after the SDK's retries, with the error code AWS gave. */
export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
  readonly api: string;
  readonly code: string;
  constructor(api: string, cause: Error) {
    super(`${api}: ${cause.name}: ${cause.message}`, { cause });
    this.api = api;
    this.code = cause.name;
  }
}

function labeled<T>(api: string, work: Promise<T>): Promise<T> {
  return work.catch((err: unknown) => {
    throw new DiscoveryError(api, err instanceof Error ? err : new Error(String(err)));
  });
}

type CallOptions = { abortSignal?: AbortSignal | undefined };
const tagMap = (tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? '']));

async function tagging(client: ResourceGroupsTaggingAPIClient, opts: CallOptions): Promise<Found[]> {
  const out: Found[] = [];
  for await (const page of paginateGetResources({ client }, { ResourceTypeFilters: [...ALL_RESOURCE_TYPES], ResourcesPerPage: 100 }, ...callArgs(opts))) {
    for (const m of page.ResourceTagMappingList ?? []) {
      if (m.ResourceARN) out.push({ arn: m.ResourceARN, tags: tagMap(m.Tags), source: 'tag:GetResources' });
    }
  }
  return out;
}

async function ec2Instances(client: EC2Client, partition: string, target: ScopeTarget, opts: CallOptions): Promise<Found[]> {
  const out: Found[] = [];
  for await (const page of paginateDescribeInstances({ client }, { MaxResults: 1000 }, ...callArgs(opts))) {
    for (const reservation of page.Reservations ?? []) {
      for (const i of reservation.Instances ?? []) {
        if (!i.InstanceId) continue;
        const attributes: Record<string, string> = { 'host.id': i.InstanceId };
        if (i.InstanceType) attributes['host.type'] = i.InstanceType;
        if (i.ImageId) attributes['host.image.id'] = i.ImageId;
        if (i.Placement?.AvailabilityZone) attributes['cloud.availability_zone'] = i.Placement.AvailabilityZone;
        if (i.VpcId) attributes['aws.ec2.vpc.id'] = i.VpcId;
        const arn = `arn:${partition}:ec2:${target.region}:${reservation.OwnerId ?? target.account}:instance/${i.InstanceId}`;
        out.push({ arn, tags: tagMap(i.Tags), attributes, source: 'ec2:DescribeInstances' });
      }
    }
  }
  return out;
}

async function rdsInstances(client: RDSClient, opts: CallOptions): Promise<Found[]> {
  const out: Found[] = [];
  for await (const page of paginateDescribeDBInstances({ client }, { MaxRecords: 100 }, ...callArgs(opts))) {
    for (const db of page.DBInstances ?? []) {
      if (!db.DBInstanceArn) continue;
      const attributes: Record<string, string> = {};
      if (db.DBInstanceClass) attributes['aws.rds.instance_class'] = db.DBInstanceClass;
      if (db.Engine) attributes['aws.rds.engine'] = db.Engine;
      if (db.AvailabilityZone) attributes['cloud.availability_zone'] = db.AvailabilityZone;
      if (db.DBClusterIdentifier) attributes['aws.rds.cluster_identifier'] = db.DBClusterIdentifier;
      out.push({ arn: db.DBInstanceArn, tags: tagMap(db.TagList), attributes, source: 'rds:DescribeDBInstances' });
    }
  }
  return out;
}

async function rdsClusters(client: RDSClient, opts: CallOptions): Promise<Found[]> {
  const out: Found[] = [];
  for await (const page of paginateDescribeDBClusters({ client }, { MaxRecords: 100 }, ...callArgs(opts))) {
    for (const c of page.DBClusters ?? []) {
      if (!c.DBClusterArn) continue;
      out.push({ arn: c.DBClusterArn, tags: tagMap(c.TagList), attributes: c.Engine ? { 'aws.rds.engine': c.Engine } : {}, source: 'rds:DescribeDBClusters' });
    }
  }
  return out;
}

async function ecsClusters(client: ECSClient, opts: CallOptions): Promise<Found[]> {
  const arns: string[] = [];
  for await (const page of paginateListClusters({ client }, {}, ...callArgs(opts))) arns.push(...(page.clusterArns ?? []));
  const out: Found[] = [];
  // DescribeClusters takes at most 100 clusters per call.
  for (let i = 0; i < arns.length; i += 100) {
    const page = await client.send(new DescribeClustersCommand({ clusters: arns.slice(i, i + 100), include: ['TAGS'] }), opts);
    for (const c of page.clusters ?? []) {
      if (!c.clusterArn) continue;
      const tags = Object.fromEntries((c.tags ?? []).filter((t) => t.key !== undefined).map((t) => [t.key!, t.value ?? '']));
      out.push({ arn: c.clusterArn, tags, attributes: { 'aws.ecs.cluster.arn': c.clusterArn }, source: 'ecs:DescribeClusters' });
    }
  }
  return out;
}

async function lambdaFunctions(client: LambdaClient, opts: CallOptions): Promise<Found[]> {
  const out: Found[] = [];
  for await (const page of paginateListFunctions({ client }, { MaxItems: 50 }, ...callArgs(opts))) {
    for (const f of page.Functions ?? []) {
      if (!f.FunctionArn) continue;
      const attributes: Record<string, string> = {};
      if (f.FunctionName) attributes['faas.name'] = f.FunctionName;
      if (f.Runtime) attributes['aws.lambda.runtime'] = f.Runtime;
      // OpenTelemetry's faas.max_memory is in bytes; Lambda reports MiB.
      if (f.MemorySize) attributes['faas.max_memory'] = String(f.MemorySize * 1024 * 1024);
      out.push({ arn: f.FunctionArn, attributes, source: 'lambda:ListFunctions' });
    }
  }
  return out;
}

/** The SDK paginators take the abort signal as their third argument. */
function callArgs(opts: CallOptions): [] | [CallOptions] {
  return opts.abortSignal ? [opts] : [];
}

/** One resource per ARN: tags and attributes from every API that reported it. */
function merge(found: Found[]): DiscoveredResource[] {
  const byArn = new Map<string, { arn: string; tags: Record<string, string>; attributes: Record<string, string>; sources: string[] }>();
  for (const f of found) {
    let r = byArn.get(f.arn);
    if (!r) byArn.set(f.arn, (r = { arn: f.arn, tags: {}, attributes: {}, sources: [] }));
    Object.assign(r.tags, f.tags);
    Object.assign(r.attributes, f.attributes);
    if (!r.sources.includes(f.source)) r.sources.push(f.source);
  }
  return [...byArn.values()];
}

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
