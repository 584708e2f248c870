import { z } from 'zod';

/** The enrichment settings (FIRETAP_ENRICHMENT_*), validated with the rest of the configuration in config/schema.ts. */
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as eu-west-1');

const roleSchema = z.strictObject({
  roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)'),
  externalId: z.string().min(2).max(1224).optional(),
  /** Regions to index in this account; the shared list when absent. */
  regions: z.array(region).optional(),
});

export const enrichmentSchema = z.strictObject({
  regions: z.array(region).default([]).describe('Regions to index. None: enrichment off.'),
  roles: z.array(roleSchema).default([]).describe('Roles to assume for other accounts: `arn[|externalId],…`. In the file, each role may have its own regions.'),
  includeDefaultCredentials: z.boolean().default(true).describe("Also index the default credentials' own account (env, files, IRSA, ECS, IMDS)."),
  refreshSeconds: z.coerce.number().int().positive().min(30).default(300).describe('Refresh interval (at least 30).'),
  readyTimeoutMs: z.coerce.number().int().nonnegative().default(30_000).describe('How long `/readyz` may wait for the first snapshot; ingestion never waits.'),
  tagKeys: z.array(z.string().min(1)).default([]).meta({ description: 'Tag keys to attach.', defaultText: 'all' }),
  excludeTagKeys: z.array(z.string().min(1)).default([]).describe('Tag keys never to attach.'),
  stsRegion: z.string().optional().meta({ description: 'Region of the STS endpoint for AssumeRole.', defaultText: 'first region' }),
  attributesOn: z
    .enum(['datapoint', 'resource'])
    .default('datapoint')
    .describe(
      "Where a resource's tags and attributes go on metrics: `datapoint` (each data point) or `resource` (once, on an OTLP Resource grouping its data points).",
    ),
});

export type EnrichmentConfig = z.output<typeof enrichmentSchema>;
