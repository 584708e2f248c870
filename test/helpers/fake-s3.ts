import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

const xml = (s: string | number) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A loopback S3 for the real SDK client (path-style, through AWS_ENDPOINT_URL_S3): ListObjectsV2 in small
 * pages with continuation tokens, GetObject, PutObject, SlowDown throttling and failing puts on demand.
 * Objects live in memory.
 */
export class FakeS3 {
  readonly objects = new Map<string, Buffer>();
  readonly calls: string[] = [];
  pageSize = 2;
  /** The next `n` GetObject calls answer 503 SlowDown. */
  slowDowns = 0;
  /** The next `n` PutObject calls answer `putFailure` (500 InternalError unless set). */
  putFailures = 0;
  putFailure: { status: number; code: string; extra?: string } = { status: 500, code: 'InternalError' };
  /** How long PutObject takes to answer. */
  putDelayMs = 0;
  /** Headers of every PutObject that stored its object (the SDK signs each request). */
  readonly puts: Array<{ key: string; headers: Record<string, string | string[] | undefined> }> = [];
  private server: Server | undefined;
  url = '';

  put(bucket: string, key: string, body: Buffer | string): this {
    this.objects.set(`${bucket}/${key}`, Buffer.from(body));
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://s3');
        const [, bucket, ...rest] = url.pathname.split('/');
        const key = decodeURIComponent(rest.join('/'));
        if (req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2') {
          this.calls.push('ListObjectsV2');
          const prefix = url.searchParams.get('prefix') ?? '';
          const keys = [...this.objects.keys()]
            .filter((k) => k.startsWith(`${bucket}/${prefix}`))
            .map((k) => k.slice(bucket!.length + 1))
            .sort();
          const after = url.searchParams.get('continuation-token');
          const from = after ? keys.indexOf(Buffer.from(after, 'base64').toString()) + 1 : 0;
          const page = keys.slice(from, from + this.pageSize);
          const truncated = from + this.pageSize < keys.length;
          const contents = page
            .map((k) => {
              const body = this.objects.get(`${bucket}/${k}`)!;
              return `<Contents><Key>${xml(k)}</Key><Size>${body.length}</Size><ETag>"${createHash('md5').update(body).digest('hex')}"</ETag></Contents>`;
            })
            .join('');
          const next = truncated ? `<NextContinuationToken>${Buffer.from(page[page.length - 1]!).toString('base64')}</NextContinuationToken>` : '';
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${xml(bucket!)}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`,
          );
          return;
        }
        if (req.method === 'GET') {
          this.calls.push(`GetObject ${key}`);
          if (this.slowDowns > 0) {
            this.slowDowns--;
            res.writeHead(503, { 'content-type': 'application/xml' });
            res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
            return;
          }
          const body = this.objects.get(`${bucket}/${key}`);
          if (!body) {
            res.writeHead(404, { 'content-type': 'application/xml' });
            res.end(
              `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${xml(key)}</Key></Error>`,
            );
            return;
          }
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': body.length,
            etag: `"${createHash('md5').update(body).digest('hex')}"`,
          });
          res.end(body);
          return;
        }
        if (req.method === 'PUT' && key !== '') {
          this.calls.push(`PutObject ${key}`);
          if (this.putFailures > 0) {
            this.putFailures--;
            res.writeHead(this.putFailure.status, { 'content-type': 'application/xml' });
            res.end(
              `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${xml(this.putFailure.code)}</Code><Message>PutObject failed on purpose.</Message>${this.putFailure.extra ?? ''}</Error>`,
            );
            return;
          }
          const body = Buffer.concat(chunks);
          setTimeout(() => {
            this.objects.set(`${bucket}/${key}`, body);
            this.puts.push({ key, headers: req.headers });
            res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` });
            res.end();
          }, this.putDelayMs);
          return;
        }
        res.writeHead(405);
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
