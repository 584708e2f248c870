import { loadConfig } from '../../src/config/load.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { parse as parseYaml, type Tags } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The CloudFormation templates in deploy/aws, checked against the CloudFormation resource specification
 * as @aws-cdk/aws-service-spec ships it: every resource type exists, every property is known and has
 * the right shape, required properties are there, and every Ref, GetAtt, Sub variable and condition
 * points at something the template defines.
 */
const DIR = resolve(import.meta.dirname, '../../deploy/aws');
const FUNCTIONS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'Transform',
  'ToJsonString',
  'Length',
];

/** YAML short forms (!Ref, !GetAtt, !Sub …) as their JSON forms. */
const cfnTags: Tags = [
  ...['scalar', 'seq', 'map'].flatMap((collection) => [
    ...FUNCTIONS.map((name) => ({ tag: `!${name}`, collection, resolve: (v: any) => ({ [`Fn::${name}`]: typeof v === 'string' ? v : v.toJSON() }) })),
    { tag: '!Ref', collection, resolve: (v: any) => ({ Ref: typeof v === 'string' ? v : v.toJSON() }) },
    { tag: '!Condition', collection, resolve: (v: any) => ({ Condition: typeof v === 'string' ? v : v.toJSON() }) },
    { tag: '!GetAtt', collection, resolve: (v: any) => ({ 'Fn::GetAtt': typeof v === 'string' ? v.split('.') : v.toJSON() }) },
  ]),
].map((t) => (t.collection === 'scalar' ? { tag: t.tag, resolve: t.resolve } : t)) as Tags;

const PSEUDO = new Set([
  'AWS::AccountId',
  'AWS::Region',
  'AWS::StackName',
  'AWS::StackId',
  'AWS::Partition',
  'AWS::NoValue',
  'AWS::URLSuffix',
  'AWS::NotificationARNs',
]);
const isIntrinsic = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && /^(Ref|Condition|Fn::)/.test(Object.keys(v)[0]!);

let db: SpecDatabase;
beforeAll(async () => {
  db = await loadAwsServiceSpec();
});

function validateTemplate(template: Record<string, any>): string[] {
  const problems: string[] = [];
  const params = new Set(Object.keys(template.Parameters ?? {}));
  const resources: Record<string, any> = template.Resources ?? {};
  const conditions = new Set(Object.keys(template.Conditions ?? {}));
  for (const key of Object.keys(template)) {
    if (!['AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Mappings', 'Conditions', 'Transform', 'Resources', 'Outputs'].includes(key))
      problems.push(`unknown top-level section ${key}`);
  }
  const specOf = new Map<string, any>();
  for (const [name, r] of Object.entries(resources)) {
    const found = db.lookup('resource', 'cloudFormationType', 'equals', r.Type);
    if (found.length !== 1) {
      problems.push(`${name}: unknown resource type ${r.Type}`);
      continue;
    }
    specOf.set(name, found.only());
    if (r.Condition && !conditions.has(r.Condition)) problems.push(`${name}: unknown condition ${r.Condition}`);
    checkObject(`${name}.Properties`, r.Properties ?? {}, found.only().properties);
  }

  function checkObject(path: string, value: Record<string, any>, properties: Record<string, any>): void {
    for (const [key, prop] of Object.entries(properties)) {
      if (prop.required && !(key in value)) problems.push(`${path}: missing required property ${key}`);
    }
    for (const [key, v] of Object.entries(value)) {
      const prop = properties[key];
      if (!prop) problems.push(`${path}: unknown property ${key}`);
      else checkValue(`${path}.${key}`, v, prop.type);
    }
  }

  function checkValue(path: string, value: unknown, type: any): void {
    walkIntrinsics(path, value);
    if (isIntrinsic(value)) {
      // Both branches of an Fn::If must fit the type.
      const ifArgs = (value as any)['Fn::If'];
      if (Array.isArray(ifArgs))
        for (const branch of ifArgs.slice(1)) if (!(isIntrinsic(branch) && (branch as any).Ref === 'AWS::NoValue')) checkValue(path, branch, type);
      return;
    }
    switch (type.type) {
      case 'string':
      case 'date-time':
        if (!['string', 'number', 'boolean'].includes(typeof value)) problems.push(`${path}: expected a string`);
        break;
      case 'integer':
      case 'number':
        if (typeof value !== 'number' && !(typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))) problems.push(`${path}: expected a number`);
        break;
      case 'boolean':
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') problems.push(`${path}: expected a boolean`);
        break;
      case 'json':
        break;
      case 'tag':
        if (typeof value !== 'object' || value === null || !('Key' in value) || !('Value' in value)) problems.push(`${path}: expected a tag {Key, Value}`);
        break;
      case 'array':
        if (!Array.isArray(value)) problems.push(`${path}: expected a list`);
        else for (const [i, v] of value.entries()) checkValue(`${path}[${i}]`, v, type.element);
        break;
      case 'map':
        if (typeof value !== 'object' || value === null || Array.isArray(value)) problems.push(`${path}: expected a map`);
        else for (const [k, v] of Object.entries(value)) checkValue(`${path}.${k}`, v, type.element);
        break;
      case 'ref': {
        const def = db.get('typeDefinition', type.reference.$ref) as any;
        if (typeof value !== 'object' || value === null || Array.isArray(value)) problems.push(`${path}: expected an object (${def.name})`);
        else checkObject(path, value as Record<string, any>, def.properties);
        break;
      }
      case 'union': {
        const before = problems.length;
        const fits = type.types.some((t: any) => {
          const saved = problems.length;
          checkValue(path, value, t);
          const ok = problems.length === saved;
          problems.length = saved;
          return ok;
        });
        problems.length = before;
        if (!fits) problems.push(`${path}: fits none of the property's types`);
        break;
      }
      default:
        break;
    }
  }

  /** Every Ref, GetAtt, Sub variable and condition name must point at something defined. */
  function walkIntrinsics(path: string, value: unknown, subVariables: ReadonlySet<string> = new Set()): void {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walkIntrinsics(`${path}[${i}]`, v, subVariables);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string' && !params.has(v) && !(v in resources) && !PSEUDO.has(v)) problems.push(`${path}: Ref to unknown ${v}`);
      if (k === 'Condition' && typeof v === 'string' && !conditions.has(v)) problems.push(`${path}: unknown condition ${v}`);
      if (k === 'Fn::If' && Array.isArray(v) && !conditions.has(v[0])) problems.push(`${path}: Fn::If on unknown condition ${v[0]}`);
      if (k === 'Fn::GetAtt' && Array.isArray(v)) {
        const spec = specOf.get(v[0]);
        if (!(v[0] in resources)) problems.push(`${path}: GetAtt of unknown resource ${v[0]}`);
        else if (spec && !(v[1] in spec.attributes)) problems.push(`${path}: ${resources[v[0]].Type} has no attribute ${v[1]}`);
      }
      if (k === 'Fn::Sub') {
        const [text, vars] = typeof v === 'string' ? [v, {}] : (v as [string, Record<string, unknown>]);
        const own = new Set(Object.keys(vars ?? {}));
        for (const m of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
          // An attribute name may hold dots itself (Endpoint.Address): the resource is what comes before the first.
          const [name, ...rest] = m[1]!.split('.');
          const attr = rest.join('.');
          if (own.has(m[1]!) || params.has(m[1]!) || PSEUDO.has(m[1]!)) continue;
          if (!(name! in resources)) problems.push(`${path}: Sub variable \${${m[1]}} names nothing`);
          else if (attr && specOf.get(name!) && !(attr in specOf.get(name!).attributes)) problems.push(`${path}: Sub variable \${${m[1]}}: no such attribute`);
        }
        walkIntrinsics(path, vars, own);
        continue;
      }
      walkIntrinsics(`${path}.${k}`, v, subVariables);
    }
  }

  for (const [name, output] of Object.entries<any>(template.Outputs ?? {})) {
    if (output.Condition && !conditions.has(output.Condition)) problems.push(`Outputs.${name}: unknown condition ${output.Condition}`);
    walkIntrinsics(`Outputs.${name}`, output.Value);
  }
  walkIntrinsics('Conditions', template.Conditions ?? {});
  return problems;
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const load = (file: string) => parseYaml(readFileSync(join(DIR, file), 'utf8'), { customTags: cfnTags }) as Record<string, any>;

describe('the CloudFormation templates', () => {
  it.each(files)('%s fits the CloudFormation resource specification', (file) => {
    expect(validateTemplate(load(file))).toEqual([]);
  });

  it('catch what they are meant to catch: unknown types, properties, required properties, dangling references', () => {
    const broken = {
      Parameters: { P: { Type: 'String' } },
      Resources: {
        Stream: {
          Type: 'AWS::KinesisFirehose::DeliveryStream',
          Properties: {
            HttpEndpointDestinationConfiguration: { EndpointConfiguration: { Url: 'https://x' }, RetryOptions: { DurationInSeconds: 'soon' } },
            Colour: 'red',
          },
        },
        Thing: { Type: 'AWS::Nope::Thing' },
        Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {}, Description: { Ref: 'Missing' } } },
        Out: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: { 'Fn::Sub': '${Stream.Nope}-${P}' } } },
      },
    };
    const problems = validateTemplate(broken);
    expect(problems).toEqual(
      expect.arrayContaining([
        'Stream.Properties: unknown property Colour',
        'Stream.Properties.HttpEndpointDestinationConfiguration: missing required property S3Configuration',
        'Stream.Properties.HttpEndpointDestinationConfiguration.RetryOptions.DurationInSeconds: expected a number',
        'Thing: unknown resource type AWS::Nope::Thing',
        'Role.Properties.Description: Ref to unknown Missing',
        'Out.Properties.LogGroupName: Sub variable ${Stream.Nope}: no such attribute',
      ]),
    );
  });

  it('deliver GZIP-encoded requests to firetap routes, keep failed data in S3, and stream metrics as OpenTelemetry 1.0', () => {
    const t = load('firetap-firehose.yaml');
    for (const [stream, route] of [
      ['MetricsDeliveryStream', 'metrics'],
      ['LogsDeliveryStream', 'logs'],
    ] as const) {
      const http = t.Resources[stream].Properties.HttpEndpointDestinationConfiguration;
      expect(http.EndpointConfiguration.Url).toEqual({ 'Fn::Sub': `\${FiretapUrl}/firehose/${route}` });
      expect(http.RequestConfiguration.ContentEncoding).toBe('GZIP');
      expect(http.S3BackupMode).toBe('FailedDataOnly');
    }
    expect(t.Resources.MetricStream.Properties.OutputFormat).toBe('opentelemetry1.0');
    expect(t.Parameters.AccessKey.NoEcho).toBe(true);
  });

  it('subscribe the Transaction Search log group aws/spans to the logs stream when SubscribeSpans is true', () => {
    const t = load('firetap-firehose.yaml');
    expect(t.Parameters.SubscribeSpans.Default).toBe('false');
    expect(t.Conditions.Spans).toEqual({ 'Fn::And': [{ Condition: 'Logs' }, { 'Fn::Equals': [{ Ref: 'SubscribeSpans' }, 'true'] }] });
    expect(t.Resources.SpansSubscriptionFilter).toMatchObject({
      Condition: 'Spans',
      Properties: { LogGroupName: 'aws/spans', FilterPattern: '', DestinationArn: { 'Fn::GetAtt': ['LogsDeliveryStream', 'Arn'] } },
    });
  });

  it("grant the IRSA role each AWS backend's write action only when that backend is named", () => {
    const t = load('firetap-enrichment-iam.yaml');
    const statements = t.Resources.ExportPolicy.Properties.PolicyDocument.Statement.map((s: any) => s['Fn::If']);
    expect(statements.map((s: any) => [s[0], s[1].Action])).toEqual([
      ['Amp', 'aps:RemoteWrite'],
      ['Logs', 'logs:PutLogEvents'],
      ['Metrics', 'cloudwatch:PutMetricData'],
      ['Osis', 'osis:Ingest'],
    ]);
    expect(t.Resources.ExportPolicy.Condition).toBe('Exports');
    expect(t.Resources.IrsaRole.Properties.ManagedPolicyArns['Fn::If'][0]).toBe('Exports');
  });

  it('point an EventBridge API destination at /eventbridge/events with the key firetap reads, retrying, with a dead-letter queue', () => {
    const t = load('firetap-eventbridge.yaml');
    const r = t.Resources;
    expect(r.ApiDestination.Properties).toMatchObject({ InvocationEndpoint: { 'Fn::Sub': '${FiretapUrl}/eventbridge/events' }, HttpMethod: 'POST' });
    expect(r.Connection.Properties).toMatchObject({
      AuthorizationType: 'API_KEY',
      AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: { Ref: 'ApiKeyHeader' } } },
    });
    expect(t.Parameters.ApiKeyHeader.Default).toBe('x-api-key');
    expect(t.Parameters.ApiKey.NoEcho).toBe(true);
    const target = r.Rule.Properties.Targets[0];
    expect(target).toMatchObject({ Arn: { 'Fn::GetAtt': ['ApiDestination', 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } } });
    expect(r.InvokeRole.Properties.Policies[0].PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'events:InvokeApiDestination', Resource: { 'Fn::GetAtt': ['ApiDestination', 'Arn'] } },
    ]);
  });

  it('offer a Valkey serverless cache for the state store, open on 6379 to the cluster security group only, its URL over TLS', () => {
    const t = load('firetap-state-store.yaml');
    expect(t.Resources.Cache.Properties.Engine).toBe('valkey');
    expect(t.Resources.CacheSecurityGroup.Properties.SecurityGroupIngress).toEqual([
      { IpProtocol: 'tcp', FromPort: 6379, ToPort: 6379, SourceSecurityGroupId: { Ref: 'ClusterSecurityGroupId' }, Description: 'firetap pods' },
    ]);
    expect(t.Outputs.StateUrl.Value).toEqual({ 'Fn::Sub': 'rediss://${Cache.Endpoint.Address}:${Cache.Endpoint.Port}' });
    const url = 'rediss://firetap-state-abc123.serverless.euw1.cache.amazonaws.com:6379';
    expect(loadConfig({ FIRETAP_STATE_URL: url }).state.url).toBe(url);
  });
});
