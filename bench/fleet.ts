import { FakeAws, type FakeResource } from '../test/helpers/fake-aws.ts';

/**
 * The resources the metric workload's data points name: FLEET of each of six kinds (EC2 instance, RDS
 * instance, Lambda function, ALB target group, SQS queue, DynamoDB table), so that one request names
 * hundreds of distinct resources, as a real account's stream does — not the same six over and over.
 */
export const FLEET = 400;
export const FLEET_KINDS: Record<string, { service: string; resource: (m: string) => string; dimensions: (m: string) => Record<string, string> }> = {
  'AWS/EC2': { service: 'ec2', resource: (m) => `instance/i-0abc1234def56${m}`, dimensions: (m) => ({ InstanceId: `i-0abc1234def56${m}` }) },
  'AWS/RDS': { service: 'rds', resource: (m) => `db:orders-${m}`, dimensions: (m) => ({ DBInstanceIdentifier: `orders-${m}` }) },
  'AWS/Lambda': {
    service: 'lambda',
    resource: (m) => `function:checkout-${m}`,
    dimensions: (m) => ({ FunctionName: `checkout-${m}`, Resource: `checkout-${m}` }),
  },
  'AWS/ApplicationELB': {
    service: 'elasticloadbalancing',
    resource: (m) => `targetgroup/web-${m}/73e2d6bc24d8a067`,
    dimensions: (m) => ({ LoadBalancer: `app/web-${m}/50dc6c495c0c9188`, TargetGroup: `targetgroup/web-${m}/73e2d6bc24d8a067` }),
  },
  'AWS/SQS': { service: 'sqs', resource: (m) => `orders-${m}`, dimensions: (m) => ({ QueueName: `orders-${m}` }) },
  'AWS/DynamoDB': { service: 'dynamodb', resource: (m) => `table/sessions-${m}`, dimensions: (m) => ({ TableName: `sessions-${m}` }) },
};
export const fleetMember = (k: number) => (k % FLEET).toString().padStart(4, '0');

/**
 * A loopback AWS holding the resources the workload's data points name (account ENRICHED): data points of
 * that account are enriched, those of account PLAIN find no snapshot and pass through — the same run
 * measures both paths.
 */
export const ENRICHED = '123456789012';
export const PLAIN = '999999999999';
export async function startAws(): Promise<FakeAws> {
  const aws = await new FakeAws().start();
  aws.pageSize = 100;
  aws.addAccount(ENRICHED, 'AKIDBENCH');
  const tags = { team: 'payments', env: 'prod', 'cost-center': '4711', application: 'shop' };
  const resources: FakeResource[] = [];
  for (let k = 0; k < FLEET; k++) {
    for (const [namespace, kind] of Object.entries(FLEET_KINDS)) {
      resources.push({
        arn: `arn:aws:${kind.service}:eu-west-1:${ENRICHED}:${kind.resource(fleetMember(k))}`,
        tags,
        ...(namespace === 'AWS/EC2' ? { details: { InstanceType: 'm6i.large' } } : {}),
      });
    }
  }
  aws.setResources(ENRICHED, 'eu-west-1', resources);
  return aws;
}
