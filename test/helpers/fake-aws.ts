import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback AWS that answers the real SDK clients in their own wire protocols (set AWS_ENDPOINT_URL to
 * its url): EC2 (EC2 query, XML), RDS and STS (AWS query, XML), ECS and the Resource Groups Tagging API
 * (JSON 1.1 with X-Amz-Target), Lambda (REST JSON). The caller's account and region are read from the
 * SigV4 credential scope of each request, so every account and region has its own inventory. Pages are
 * small to force pagination; calls can be throttled or failed on demand.
 */

export interface FakeResource {
  arn: string;
  tags?: Record<string, string>;
  /** ec2: InstanceType, AvailabilityZone, ImageId, VpcId; rds: DBInstanceClass, Engine; lambda: Runtime, MemorySize. */
  details?: Record<string, string | number>;
}

export interface Call {
  service: string;
  action: string;
  account: string;
  region: string;
}

type Api =
  | 'tagging.GetResources'
  | 'ec2.DescribeInstances'
  | 'rds.DescribeDBInstances'
  | 'rds.DescribeDBClusters'
  | 'ecs.ListClusters'
  | 'ecs.DescribeClusters'
  | 'lambda.ListFunctions'
  | 'sts.AssumeRole'
  | 'sts.GetCallerIdentity';

const xml = (s: string | number) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class FakeAws {
  readonly calls: Call[] = [];
  pageSize = 2;
  /** AccessKeyId → account, for the static keys and the sessions AssumeRole hands out. */
  private readonly keys = new Map<string, string>();
  private readonly inventory = new Map<string, FakeResource[]>();
  private readonly throttles = new Map<string, number>();
  private readonly failures = new Map<string, { status: number; code: string }>();
  private readonly roleExternalIds = new Map<string, string | undefined>();
  private server: Server | undefined;
  url = '';

  /** Static credentials of an account (what AWS_ACCESS_KEY_ID would hold). */
  addAccount(account: string, accessKeyId: string): this {
    this.keys.set(accessKeyId, account);
    return this;
  }

  /** A role that AssumeRole can enter, optionally requiring an external id. */
  addRole(roleArn: string, externalId?: string): this {
    this.roleExternalIds.set(roleArn, externalId);
    return this;
  }

  /** Replaces the resources of one account and region. */
  setResources(account: string, region: string, resources: FakeResource[]): this {
    this.inventory.set(`${account}|${region}`, resources);
    return this;
  }

  /** The next `times` calls of `api` (in any account) answer with the service's throttling error. */
  throttle(api: Api, times: number): this {
    this.throttles.set(api, times);
    return this;
  }

  /** Every call of `api` fails with this status and error code until cleared. */
  fail(api: Api, failure: { status: number; code: string } | undefined): this {
    if (failure) this.failures.set(api, failure);
    else this.failures.delete(api);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          this.handle(req, Buffer.concat(chunks).toString('utf8'), res);
        } catch (err) {
          res.writeHead(500).end(String(err));
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, body: string, res: ServerResponse): void {
    const scope = /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\/aws4_request/.exec(req.headers.authorization ?? '');
    if (!scope) return void res.writeHead(403, { 'content-type': 'text/plain' }).end('missing SigV4 Authorization');
    const [, accessKeyId, region, service] = scope as unknown as [string, string, string, string];
    const account = this.keys.get(accessKeyId);
    if (!account) return this.error(service, res, 403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const form = new URLSearchParams(body);
    const target = (req.headers['x-amz-target'] as string | undefined)?.split('.')[1];
    const url = new URL(req.url ?? '/', 'http://x');
    const action = target ?? form.get('Action') ?? (url.pathname.startsWith('/2015-03-31/functions') ? 'ListFunctions' : 'unknown');
    const api = `${service}.${action}`;
    this.calls.push({ service, action, account, region });

    const throttled = this.throttles.get(api) ?? 0;
    if (throttled > 0) {
      this.throttles.set(api, throttled - 1);
      return this.throttle_(service, res);
    }
    const failure = this.failures.get(api);
    if (failure) return this.error(service, res, failure.status, failure.code, `${failure.code} (injected)`);

    const resources = this.inventory.get(`${account}|${region}`) ?? [];
    const json = (String(req.headers['content-type']).includes('json') && body ? JSON.parse(body) : {}) as Record<string, any>;
    switch (api) {
      case 'sts.GetCallerIdentity':
        return this.query(
          res,
          'GetCallerIdentity',
          'https://sts.amazonaws.com/doc/2011-06-15/',
          `<Arn>arn:aws:iam::${account}:user/firetap</Arn><UserId>AIDAFIRETAP</UserId><Account>${account}</Account>`,
        );
      case 'sts.AssumeRole':
        return this.assumeRole(res, form);
      case 'tagging.GetResources': {
        const tagged = resources.filter((r) => r.tags && Object.keys(r.tags).length > 0);
        const { page, next } = this.page(tagged, json.PaginationToken);
        const list = page.map((r) => ({ ResourceARN: r.arn, Tags: Object.entries(r.tags!).map(([Key, Value]) => ({ Key, Value })) }));
        return this.json(res, { ResourceTagMappingList: list, PaginationToken: next ?? '' });
      }
      case 'ecs.ListClusters': {
        const { page, next } = this.page(
          resources.filter((r) => r.arn.includes(':ecs:') && r.arn.includes(':cluster/')),
          json.nextToken,
        );
        return this.json(res, { clusterArns: page.map((r) => r.arn), ...(next ? { nextToken: next } : {}) });
      }
      case 'ecs.DescribeClusters': {
        const wanted = new Set(json.clusters as string[]);
        const clusters = resources
          .filter((r) => wanted.has(r.arn))
          .map((r) => ({
            clusterArn: r.arn,
            clusterName: r.arn.split('/').pop(),
            status: 'ACTIVE',
            tags: Object.entries(r.tags ?? {}).map(([key, value]) => ({ key, value })),
          }));
        return this.json(res, { clusters, failures: [] });
      }
      case 'lambda.ListFunctions': {
        const { page, next } = this.page(
          resources.filter((r) => r.arn.includes(':lambda:')),
          url.searchParams.get('Marker') ?? undefined,
        );
        const functions = page.map((r) => ({
          FunctionName: r.arn.split(':').pop(),
          FunctionArn: r.arn,
          Runtime: r.details?.Runtime,
          MemorySize: r.details?.MemorySize,
        }));
        return this.json(res, { Functions: functions, ...(next ? { NextMarker: next } : {}) }, 'application/json');
      }
      case 'ec2.DescribeInstances':
        return this.describeInstances(res, account, resources, form.get('NextToken') ?? undefined);
      case 'rds.DescribeDBInstances':
        return this.describeRds(
          res,
          'DBInstance',
          resources.filter((r) => /:rds:[^:]+:\d+:db:/.test(r.arn)),
          form.get('Marker') ?? undefined,
        );
      case 'rds.DescribeDBClusters':
        return this.describeRds(
          res,
          'DBCluster',
          resources.filter((r) => /:rds:[^:]+:\d+:cluster:/.test(r.arn)),
          form.get('Marker') ?? undefined,
        );
      default:
        return this.error(service, res, 400, 'InvalidAction', `the fake does not know ${api}`);
    }
  }

  private page<T>(items: T[], token: string | undefined): { page: T[]; next: string | undefined } {
    const start = token ? Number(token) : 0;
    const end = start + this.pageSize;
    return { page: items.slice(start, end), next: end < items.length ? String(end) : undefined };
  }

  private assumeRole(res: ServerResponse, form: URLSearchParams): void {
    const roleArn = form.get('RoleArn') ?? '';
    if (!this.roleExternalIds.has(roleArn)) return this.error('sts', res, 403, 'AccessDenied', `not authorized to assume ${roleArn}`);
    const required = this.roleExternalIds.get(roleArn);
    if (required !== undefined && form.get('ExternalId') !== required) return this.error('sts', res, 403, 'AccessDenied', 'external id does not match');
    const account = roleArn.split(':')[4]!;
    const key = `ASIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`;
    this.keys.set(key, account);
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    this.query(
      res,
      'AssumeRole',
      'https://sts.amazonaws.com/doc/2011-06-15/',
      `<Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
        `<AssumedRoleUser><AssumedRoleId>AROAFIRETAP:firetap-enrichment</AssumedRoleId><Arn>arn:aws:sts::${account}:assumed-role/${roleArn.split('/').pop()}/firetap-enrichment</Arn></AssumedRoleUser>`,
    );
  }

  private describeInstances(res: ServerResponse, account: string, resources: FakeResource[], token: string | undefined): void {
    const { page, next } = this.page(
      resources.filter((r) => r.arn.includes(':ec2:') && r.arn.includes(':instance/')),
      token,
    );
    const items = page
      .map((r) => {
        const d = r.details ?? {};
        const tags = Object.entries(r.tags ?? {})
          .map(([k, v]) => `<item><key>${xml(k)}</key><value>${xml(v)}</value></item>`)
          .join('');
        return (
          `<item><reservationId>r-${r.arn.slice(-8)}</reservationId><ownerId>${account}</ownerId><instancesSet><item>` +
          `<instanceId>${r.arn.split('/').pop()}</instanceId><imageId>${d.ImageId ?? 'ami-0123456789abcdef0'}</imageId>` +
          `<instanceState><code>16</code><name>running</name></instanceState><instanceType>${d.InstanceType ?? 't3.micro'}</instanceType>` +
          `<placement><availabilityZone>${d.AvailabilityZone ?? 'eu-west-1a'}</availabilityZone></placement><vpcId>${d.VpcId ?? 'vpc-0a1b2c3d'}</vpcId>` +
          `<tagSet>${tags}</tagSet></item></instancesSet></item>`
        );
      })
      .join('');
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` +
      `<requestId>${randomUUID()}</requestId><reservationSet>${items}</reservationSet>${next ? `<nextToken>${next}</nextToken>` : ''}</DescribeInstancesResponse>`;
    res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' }).end(body);
  }

  private describeRds(res: ServerResponse, kind: 'DBInstance' | 'DBCluster', resources: FakeResource[], marker: string | undefined): void {
    const { page, next } = this.page(resources, marker);
    const items = page
      .map((r) => {
        const d = r.details ?? {};
        const id = r.arn.split(':').pop()!;
        const tags = Object.entries(r.tags ?? {})
          .map(([k, v]) => `<Tag><Key>${xml(k)}</Key><Value>${xml(v)}</Value></Tag>`)
          .join('');
        const fields =
          kind === 'DBInstance'
            ? `<DBInstanceIdentifier>${id}</DBInstanceIdentifier><DBInstanceArn>${r.arn}</DBInstanceArn><DBInstanceClass>${d.DBInstanceClass ?? 'db.t4g.micro'}</DBInstanceClass><AvailabilityZone>${d.AvailabilityZone ?? 'eu-west-1b'}</AvailabilityZone>`
            : `<DBClusterIdentifier>${id}</DBClusterIdentifier><DBClusterArn>${r.arn}</DBClusterArn>`;
        return `<${kind}>${fields}<Engine>${d.Engine ?? 'postgres'}</Engine><TagList>${tags}</TagList></${kind}>`;
      })
      .join('');
    const action = `Describe${kind}s`;
    this.query(res, action, 'http://rds.amazonaws.com/doc/2014-10-31/', `<${kind}s>${items}</${kind}s>${next ? `<Marker>${next}</Marker>` : ''}`);
  }

  private query(res: ServerResponse, action: string, ns: string, result: string): void {
    const body = `<${action}Response xmlns="${ns}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
    res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
  }

  private json(res: ServerResponse, value: unknown, type = 'application/x-amz-json-1.1'): void {
    res.writeHead(200, { 'content-type': type, 'x-amzn-requestid': randomUUID() }).end(JSON.stringify(value));
  }

  /** Each service's own throttling answer. */
  private throttle_(service: string, res: ServerResponse): void {
    if (service === 'ec2') return this.error(service, res, 503, 'RequestLimitExceeded', 'Request limit exceeded.');
    if (service === 'lambda') return this.error(service, res, 429, 'TooManyRequestsException', 'Rate exceeded');
    if (service === 'rds' || service === 'sts') return this.error(service, res, 400, 'Throttling', 'Rate exceeded');
    return this.error(service, res, 400, 'ThrottlingException', 'Rate exceeded');
  }

  private error(service: string, res: ServerResponse, status: number, code: string, message: string): void {
    if (service === 'ec2') {
      res
        .writeHead(status, { 'content-type': 'text/xml' })
        .end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${xml(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`,
        );
    } else if (service === 'rds' || service === 'sts') {
      res
        .writeHead(status, { 'content-type': 'text/xml' })
        .end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${xml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
        );
    } else if (service === 'lambda') {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': code }).end(JSON.stringify({ Type: 'User', message }));
    } else {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: code, message }));
    }
  }
}
