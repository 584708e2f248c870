import { randomBytes } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../config/load.ts';
import { deadLetterLines, type DeadLetter } from './dead-letter.ts';

/** `s3://bucket[/prefix]`, the bucket named as S3 requires (FIRETAP_DEAD_LETTER_URL is checked by the schema too). */
export function parseDeadLetterUrl(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  const bucket = m?.[1] ?? '';
  if (!m || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw new ConfigError(
      `FIRETAP_DEAD_LETTER_URL: expected s3://bucket[/prefix] with a valid bucket name (3-63 lowercase letters, digits, dots and hyphens), got ${JSON.stringify(url.slice(0, 100))}`,
    );
  }
  return { bucket, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** The object key of one write: `<prefix>/YYYY/MM/DD/HH/<requestId>-<random>.jsonl`, in UTC. */
export function deadLetterKey(prefix: string, requestId: string, now: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  const hour = `${now.getUTCFullYear()}/${p2(now.getUTCMonth() + 1)}/${p2(now.getUTCDate())}/${p2(now.getUTCHours())}`;
  const id = requestId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'request';
  return `${prefix ? `${prefix}/` : ''}${hour}/${id}-${randomBytes(6).toString('hex')}.jsonl`;
}

/** What went wrong, for a message: the S3 error code and status, never the request (it is signed) or the credentials. */
function s3Problem(err: unknown): string {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (e.$metadata?.httpStatusCode) return `S3 answered ${e.$metadata.httpStatusCode} ${e.name ?? ''}`.trim();
  if (e.name === 'CredentialsProviderError') return 'no AWS credentials were found (default credential chain)';
  return `S3 could not be reached (${e.code ?? e.name ?? 'unknown error'})`;
}

/**
 * Writes each batch of rejected records (one request's) as one JSONL object under `s3://bucket/prefix`,
 * resolving once S3 has stored it, through the default credential chain. The region is AWS_REGION
 * (or AWS_DEFAULT_REGION); AWS_ENDPOINT_URL_S3 points it elsewhere (MinIO, a loopback S3), path-style.
 */
export function createS3DeadLetter(url: string, env: Readonly<Record<string, string | undefined>>): DeadLetter {
  const { bucket, prefix } = parseDeadLetterUrl(url);
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region)
    throw new ConfigError(`FIRETAP_DEAD_LETTER_URL: no AWS region for s3://${bucket}: set AWS_REGION (or AWS_DEFAULT_REGION) to the bucket's region`);
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  const client = new S3Client({
    region,
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    retryMode: 'standard',
    maxAttempts: 3,
    // Well inside the time Firehose waits for an answer, retries included.
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
  });
  const location = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
  return {
    location,
    async write(entries) {
      if (entries.length === 0) return;
      const now = new Date();
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: deadLetterKey(prefix, entries[0]!.requestId, now),
            Body: deadLetterLines(entries, now),
            ContentType: 'application/x-ndjson',
          }),
        );
      } catch (err) {
        throw new Error(s3Problem(err));
      }
    },
  };
}
