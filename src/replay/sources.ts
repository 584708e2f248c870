import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** One object to replay: an S3 object or a local file, read through the same interface. */
export interface ReplayObject {
  /** `s3://bucket/key` or the file's path. */
  readonly name: string;
  readonly size: number;
  /** What identifies this version of the object for resumption (ETag, or size and mtime). */
  readonly version: string;
  read(): Promise<Buffer>;
}

/** `s3://bucket/prefix` → bucket and prefix; undefined for a local path. */
export function parseS3Url(location: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  return m ? { bucket: m[1]!, prefix: m[2]! } : undefined;
}

/** The files under a path (or the file itself), in name order, hidden files left out. */
async function localObjects(path: string): Promise<ReplayObject[]> {
  const info = await stat(path);
  const files: string[] = [];
  if (info.isFile()) files.push(path);
  else {
    for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const full = join(entry.parentPath, entry.name);
      if (
        relative(path, full)
          .split('/')
          .some((part) => part.startsWith('.'))
      )
        continue;
      files.push(full);
    }
    files.sort();
  }
  return Promise.all(
    files.map(async (file) => {
      const s = await stat(file);
      return { name: file, size: s.size, version: `${s.size}-${Math.trunc(s.mtimeMs)}`, read: () => readFile(file) };
    }),
  );
}

/**
 * The objects under `s3://bucket/prefix`, every page of ListObjectsV2, in key order. Through the AWS SDK
 * with the default credential chain and the standard settings (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_S3 …);
 * path-style addressing when an endpoint is set (MinIO, LocalStack, a loopback S3).
 */
async function s3Objects(bucket: string, prefix: string): Promise<ReplayObject[]> {
  const { S3Client, GetObjectCommand, paginateListObjectsV2 } = await import('@aws-sdk/client-s3');
  const custom = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const client = new S3Client({ ...(custom ? { forcePathStyle: true } : {}), retryMode: 'standard', maxAttempts: 5 });
  const out: ReplayObject[] = [];
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix })) {
    for (const o of page.Contents ?? []) {
      if (!o.Key || o.Key.endsWith('/')) continue;
      const key = o.Key;
      out.push({
        name: `s3://${bucket}/${key}`,
        size: o.Size ?? 0,
        version: o.ETag ?? String(o.Size ?? 0),
        read: async () => {
          const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
          if (!answer.Body) throw new Error(`s3://${bucket}/${key} has no body`);
          return Buffer.from(await answer.Body.transformToByteArray());
        },
      });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function listObjects(location: string): Promise<ReplayObject[]> {
  const s3 = parseS3Url(location);
  return s3 ? s3Objects(s3.bucket, s3.prefix) : localObjects(location);
}
