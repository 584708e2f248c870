import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Redis } from 'ioredis';

/** An IAM auth token is valid for 15 minutes; a new one is made every 10, so a reconnect always has a fresh one. */
const TOKEN_SECONDS = 900;
const REFRESH_MS = 10 * 60 * 1000;

export interface IamAuth {
  /** The ElastiCache cache (serverless) or replication group the token is for, in lowercase. */
  readonly cacheName: string;
  readonly region: string;
  /** The ElastiCache user (IAM users' id and name are the same). */
  readonly userId: string;
  readonly serverless: boolean;
}

type Credentials = () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined }>;

/** RFC 3986 escaping, as SigV4 canonicalises query values. */
const uriEscape = (text: string): string => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * An ElastiCache IAM auth token (the `AUTH` password of an IAM-enabled user): a SigV4-presigned
 * `GET http://<cache>/?Action=connect&User=<user>` for the `elasticache` service, without its scheme.
 */
export async function elastiCacheIamToken(auth: IamAuth, credentials: Credentials, signingDate?: Date): Promise<string> {
  const signer = new SignatureV4({ service: 'elasticache', region: auth.region, credentials, sha256: Sha256 });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: auth.cacheName,
      path: '/',
      query: { Action: 'connect', User: auth.userId, ...(auth.serverless ? { ResourceType: 'ServerlessCache' } : {}) },
      headers: { host: auth.cacheName },
    },
    { expiresIn: TOKEN_SECONDS, ...(signingDate ? { signingDate } : {}) },
  );
  const query = Object.entries(presigned.query ?? {}).map(([k, v]) => `${uriEscape(k)}=${uriEscape(String(v))}`);
  return `${auth.cacheName}/?${query.join('&')}`;
}

/**
 * Keeps the client's password a fresh IAM token: one now, then every 10 minutes (ioredis reads it at each
 * (re)connect; ElastiCache closes IAM connections after 12 hours, and the reconnect signs in anew). Returns
 * the stop of the refresh. The default credential chain (IRSA on EKS) is loaded only here.
 */
export async function keepIamToken(redis: Redis, auth: IamAuth, onError: (err: unknown) => void): Promise<() => void> {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const credentials = fromNodeProviderChain();
  const refresh = async () => {
    try {
      redis.options.password = await elastiCacheIamToken(auth, credentials);
    } catch (err) {
      onError(err);
    }
  };
  await refresh();
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  timer.unref();
  return () => clearInterval(timer);
}
