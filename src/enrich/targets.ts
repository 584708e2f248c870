import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { EnrichmentConfig } from './settings.ts';
import type { Credentials } from './aws-discovery.ts';

export interface AccountCredentials {
  /** The account id, or undefined until the default credentials' account was asked of STS. */
  readonly account: string | undefined;
  readonly label: string;
  readonly credentials: Credentials;
  readonly regions: readonly string[];
}

/**
 * The accounts to index and how to reach each: the default credential chain (environment, shared
 * files and AWS_PROFILE, IRSA's web identity token, ECS, IMDS) for its own account, and for each
 * configured role, temporary credentials assumed with the default ones (cross-account, ExternalId).
 */
export function accountCredentials(config: EnrichmentConfig): AccountCredentials[] {
  const base = cached(fromNodeProviderChain());
  const out: AccountCredentials[] = [];
  if (config.includeDefaultCredentials) out.push({ account: undefined, label: 'default credentials', credentials: base, regions: config.regions });
  for (const role of config.roles) {
    const credentials = cached(
      fromTemporaryCredentials({
        params: { RoleArn: role.roleArn, RoleSessionName: 'firetap-enrichment', ...(role.externalId ? { ExternalId: role.externalId } : {}) },
        masterCredentials: base,
        clientConfig: { region: config.stsRegion ?? role.regions?.[0] ?? config.regions[0] ?? 'us-east-1' },
      }),
    );
    out.push({ account: role.roleArn.split(':')[4], label: role.roleArn, credentials, regions: role.regions ?? config.regions });
  }
  return out;
}

type Identity = Awaited<ReturnType<Extract<Credentials, (...args: never[]) => unknown>>>;

/**
 * Shares one set of credentials between every client of every region until five minutes before they
 * expire: without it each SDK client would assume the role (or read the IRSA token) on its own.
 */
function cached(provider: () => Promise<Identity>): () => Promise<Identity> {
  let current: Identity | undefined;
  let pending: Promise<Identity> | undefined;
  return () => {
    if (current && (!current.expiration || current.expiration.getTime() - Date.now() > 300_000)) return Promise.resolve(current);
    pending ??= provider()
      .then((identity) => (current = identity))
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/** The account the credentials belong to, from STS GetCallerIdentity. */
export async function callerAccount(credentials: Credentials, region: string, abortSignal?: AbortSignal): Promise<string> {
  const sts = new STSClient({ region, credentials, maxAttempts: 5 });
  try {
    const identity = await sts.send(new GetCallerIdentityCommand({}), abortSignal ? { abortSignal } : {});
    if (!identity.Account) throw new Error('STS GetCallerIdentity returned no account');
    return identity.Account;
  } finally {
    sts.destroy();
  }
}
