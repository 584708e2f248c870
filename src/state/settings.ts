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

export type StateConfig = z.output<typeof stateSchema>;
