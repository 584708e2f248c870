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
  /** Regions to index; none means enrichment is off. */
  regions: z.array(region).default([]),
  /** Roles to assume for other accounts (cross-account), on top of the default credentials' own account. */
  roles: z.array(roleSchema).default([]),
  /** Index the account of the default credentials (env, files, IRSA, ECS, IMDS) too. */
  includeDefaultCredentials: z.boolean().default(true),
  refreshSeconds: z.coerce.number().int().positive().min(30).default(300),
  /** /readyz waits at most this long after start for the first snapshot; ingestion never waits. */
  readyTimeoutMs: z.coerce.number().int().nonnegative().default(30_000),
  /** Tag keys to attach (all when empty), and tag keys never to attach. */
  tagKeys: z.array(z.string().min(1)).default([]),
  excludeTagKeys: z.array(z.string().min(1)).default([]),
  /** Region of the STS endpoint used to assume roles. */
  stsRegion: z.string().optional(),
  /** Where a known resource's attributes go: on every data point, or once on an OTLP Resource grouping its points. */
  attributesOn: z.enum(['datapoint', 'resource']).default('datapoint'),
});

export type EnrichmentConfig = z.output<typeof enrichmentSchema>;
