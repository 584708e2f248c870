import { z } from 'zod';

/** The shared state store's settings (FIRETAP_STATE_*), validated with the rest of the configuration in config/schema.ts. */
const stateUrl = z.url({
  protocol: /^rediss?$/,
  error: (issue) =>
    typeof issue.input === 'string' && !issue.input.includes('://')
      ? 'expected a redis:// or rediss:// URL with its scheme (for example rediss://my-cache.serverless.euw1.cache.amazonaws.com:6379)'
      : 'expected a redis:// (plain) or rediss:// (TLS) URL of a Valkey or Redis server',
});

export const stateSchema = z.strictObject({
  url: stateUrl
    .refine((text) => /^\/?(\d*)$/.test(new URL(text).pathname), 'the path of the URL is a database number (/0, /1 …) or nothing')
    .optional()
    .meta({
      description:
        '`redis://[user:password@]host:port[/db]` or `rediss://…` (TLS) of a Valkey/Redis server the replicas share: delivery ledger, meter-record dedupe and one tag scraper for the fleet (see [State store](operations.md#state-store)). Unset: each process keeps its own state in memory.',
      defaultText: 'none (in memory, per process)',
    }),
  passwordFile: z
    .string()
    .min(1)
    .optional()
    .describe("File holding the store's password or auth token (a mounted secret); it overrides a password in the URL."),
  username: z.string().min(1).optional().describe('User of the store (Valkey/Redis ACL, ElastiCache RBAC); overrides a user in the URL.'),
  iamCacheName: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, 'expected the ElastiCache cache (or replication group) name, lowercase')
    .optional()
    .describe(
      "ElastiCache IAM authentication: the cache (or replication group) the token is for. With the IAM-enabled user as the store's user and the cache's region (both required), the pod's AWS credentials sign a token every 10 minutes instead of a password.",
    ),
  iamRegion: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region such as eu-west-1')
    .optional()
    .describe('Region of that cache (IAM authentication).'),
  keyPrefix: z
    .string()
    .min(1)
    .max(64)
    .default('firetap:')
    .describe('Prefix of every key firetap writes: two fleets may share one store under different prefixes.'),
  timeoutMs: z.coerce
    .number()
    .int()
    .positive()
    .max(60_000)
    .default(1000)
    .describe('How long one store command may take before firetap falls back to its local memory.'),
  leaseTtlMs: z.coerce
    .number()
    .int()
    .min(1000)
    .max(600_000)
    .default(30_000)
    .describe("The tag scraper's lease: the leader renews it every third of this; another replica takes over within this of the leader's death."),
});

/** IAM authentication needs the user and the region, and replaces a password. */
export const stateSchemaChecked = stateSchema.superRefine((state, ctx) => {
  if (state.iamCacheName === undefined) return;
  if (!state.username)
    ctx.addIssue({
      code: 'custom',
      path: ['username'],
      message: 'IAM authentication (FIRETAP_STATE_IAM_CACHE_NAME) needs the IAM-enabled ElastiCache user: set FIRETAP_STATE_USERNAME',
    });
  if (!state.iamRegion)
    ctx.addIssue({
      code: 'custom',
      path: ['iamRegion'],
      message: "IAM authentication (FIRETAP_STATE_IAM_CACHE_NAME) needs the cache's region: set FIRETAP_STATE_IAM_REGION",
    });
  if (state.passwordFile)
    ctx.addIssue({
      code: 'custom',
      path: ['passwordFile'],
      message: 'IAM authentication signs a token instead of a password: unset FIRETAP_STATE_PASSWORD_FILE or FIRETAP_STATE_IAM_CACHE_NAME',
    });
});

export type StateConfig = z.output<typeof stateSchema>;
