import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OtlpSignalConfig } from '../../../src/config/schema.ts';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createOtlpHttpExporter } from '../../../src/export/otlp-http.ts';
import { MAX_RESPONSE_BODY_BYTES } from '../../../src/export/http-transport.ts';
import { buildCertificate } from '../../helpers/certs.ts';
import { otlpTypes } from '../../../src/otlp/schema.ts';
import { OtlpSink } from '../../helpers/otlp-sink.ts';
import { metricStreamRequest, sampleDatapoints } from '../../helpers/cloudwatch-fixtures.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { RECORD_CODECS } from '../../../src/pipeline/record-codecs.ts';
import { recordContext } from '../../helpers/record-context.ts';
import { ecsSpan, spanText } from '../../helpers/span-fixtures.ts';

let sink: OtlpSink;
beforeEach(async () => {
  sink = await new OtlpSink().start();
});
afterEach(() => sink.stop());

const payload = metricStreamRequest({ account: '1', region: 'r', streamName: 's' }, sampleDatapoints(3));
const base: OtlpSignalConfig = { endpoint: '', headers: {}, compression: 'none', protocol: 'http/protobuf', timeoutMs: 2000 };
const exporter = (over: Partial<OtlpSignalConfig> = {}) =>
  createOtlpHttpExporter({ signal: 'metrics', userAgent: 'firetap/test', config: { ...base, endpoint: `${sink.url}/v1/metrics`, ...over } });
const send = (e = exporter()) => e.export({ signal: 'metrics', payload, items: 3, deadline: Date.now() + 5000 });

describe('OTLP/HTTP exporter', () => {
  it('posts protobuf with the configured headers', async () => {
    expect(await send(exporter({ headers: { authorization: 'Bearer t', 'x-scope-orgid': 'acme' } }))).toEqual({ status: 'success' });
    const [got] = sink.received;
    expect(got!.headers).toMatchObject({
      'content-type': 'application/x-protobuf',
      authorization: 'Bearer t',
      'x-scope-orgid': 'acme',
      'user-agent': 'firetap/test',
    });
    expect(got!.body).toEqual(Buffer.from(payload));
  });

  it('gzips the body when compression is gzip', async () => {
    await send(exporter({ compression: 'gzip' }));
    expect(sink.received[0]!.headers['content-encoding']).toBe('gzip');
    expect(sink.received[0]!.body).toEqual(Buffer.from(payload));
  });

  it('sends OTLP/JSON when the protocol is http/json', async () => {
    await send(exporter({ protocol: 'http/json' }));
    const json = sink.received[0]!.json;
    expect(sink.received[0]!.headers['content-type']).toBe('application/json');
    const dp = json.resourceMetrics[0].scopeMetrics[0].metrics[0].summary.dataPoints[0];
    expect(dp.timeUnixNano).toBe('1795000000000000000');
    expect(json.resourceMetrics[0].resource.attributes[0]).toEqual({ key: 'cloud.provider', value: { stringValue: 'aws' } });
  });

  it('sends spans as OTLP/JSON with hex trace and span ids, and reads a traces partial success', async () => {
    const batch = new OtlpBatch();
    await RECORD_CODECS.traces(Buffer.from(spanText(ecsSpan())).toString('base64'), batch, recordContext());
    const traces = createOtlpHttpExporter({
      signal: 'traces',
      userAgent: 'firetap/test',
      config: { ...base, endpoint: `${sink.url}/v1/traces`, protocol: 'http/json' },
    });
    const body = otlpTypes.ExportTraceServiceResponse.encode({ partialSuccess: { rejectedSpans: 1, errorMessage: 'span too old' } }).finish();
    sink.respond({ status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(body) });
    const result = await traces.export({ signal: 'traces', payload: batch.take().payload, items: 1, deadline: Date.now() + 5000 });
    expect(result).toEqual({ status: 'success', rejected: 1, message: 'span too old' });
    const span = sink.received[0]!.json.resourceSpans[0].scopeSpans[0].spans[0];
    expect(span).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', parentSpanId: '00f067aa0ba902b7' });
    expect(span.links[0]).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b8' });
  });

  it('reports a partial success with the count the backend rejected', async () => {
    const body = otlpTypes.ExportMetricsServiceResponse.encode({ partialSuccess: { rejectedDataPoints: 2, errorMessage: 'too old' } }).finish();
    sink.respond({ status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(body) });
    expect(await send()).toEqual({ status: 'success', rejected: 2, message: 'too old' });
  });

  it.each([
    [429, 'retryable'],
    [502, 'retryable'],
    [503, 'retryable'],
    [504, 'retryable'],
    [400, 'permanent'],
    [401, 'permanent'],
    [404, 'permanent'],
    [413, 'permanent'],
    [500, 'permanent'],
  ])('classifies status %i as %s, as the OTLP specification says', async (status, kind) => {
    sink.respond({ status, body: 'backend says no' });
    const result = await send();
    expect(result.status).toBe(kind);
    // The message reaches the caller: the signal and the status only; the URL and the backend's words are for the log.
    expect(result).toMatchObject({
      message: `OTLP metrics backend answered ${status}`,
      detail: `OTLP metrics backend ${sink.url}/v1/metrics answered ${status}: backend says no`,
    });
  });

  it('logs the backend URL without its userinfo or query, and answers without it', async () => {
    const endpoint = `${sink.url.replace('http://', 'http://user:s3cret@')}/v1/metrics?token=t0k`;
    sink.respond({ status: 500, body: 'internal detail' });
    const result = (await send(exporter({ endpoint }))) as { message: string; detail: string };
    expect(result.message).toBe('OTLP metrics backend answered 500');
    expect(result.detail).toBe(`OTLP metrics backend ${sink.url}/v1/metrics answered 500: internal detail`);
  });

  it('answers a connection failure with its code only, never the address it tried', async () => {
    const closed = createNetServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const result = (await send(exporter({ endpoint: `http://127.0.0.1:${port}/v1/metrics` }))) as { message: string; detail: string };
    expect(result.message).toBe('OTLP metrics backend: connection failed (ECONNREFUSED)');
    expect(result.detail).toContain(`127.0.0.1:${port}`);
  });

  it('passes on Retry-After in seconds and as an HTTP date', async () => {
    sink.respond({ status: 429, headers: { 'retry-after': '7' } });
    expect(await send()).toMatchObject({ status: 'retryable', retryAfterMs: 7000 });
    sink.respond({ status: 503, headers: { 'retry-after': new Date(Date.now() + 30_000).toUTCString() } });
    const r = (await send()) as { retryAfterMs: number };
    expect(r.retryAfterMs).toBeGreaterThan(28_000);
    expect(r.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('gives up on a backend that does not answer within the timeout, as retryable', async () => {
    sink.respond({ status: 200, delayMs: 1000 });
    const result = await send(exporter({ timeoutMs: 100 }));
    expect(result).toMatchObject({ status: 'retryable', message: expect.stringContaining('no answer within 100 ms') });
  });

  it('treats an unreachable backend as retryable', async () => {
    const closed = await new OtlpSink().start();
    await closed.stop();
    const result = await send(createOtlpHttpExporter({ signal: 'metrics', userAgent: 'x', config: { ...base, endpoint: `${closed.url}/v1/metrics` } }));
    expect(result).toMatchObject({ status: 'retryable', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('stops reading a backend answer at the cap and drops the connection, whatever the backend keeps sending', async () => {
    let written = 0;
    let closed = false;
    const endless = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        const chunk = Buffer.alloc(64 * 1024);
        const pump = () => {
          while (!closed && res.write(chunk)) written += chunk.length;
          if (!closed) res.once('drain', pump);
        };
        res.on('close', () => (closed = true));
        pump();
      });
    });
    await new Promise<void>((r) => endless.listen(0, '127.0.0.1', r));
    try {
      const e = createOtlpHttpExporter({
        signal: 'metrics',
        userAgent: 'x',
        config: { ...base, endpoint: `http://127.0.0.1:${(endless.address() as AddressInfo).port}/v1/metrics` },
      });
      expect(await send(e)).toEqual({ status: 'success' });
      await new Promise((r) => setTimeout(r, 100));
      expect(closed).toBe(true);
      expect(written).toBeLessThan(MAX_RESPONSE_BODY_BYTES + 16 * 1024 * 1024);
    } finally {
      endless.closeAllConnections();
      endless.close();
    }
  });

  it('settles only once the whole payload was sent, even when the backend answers before reading it', async () => {
    // The caller reuses the payload's buffer as soon as export() settles (deliver's buffer pool).
    const big = Buffer.alloc(32 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i >> 12) & 0xff;
    // A raw server: node's own would discard the rest of a body once it has answered.
    let received: Promise<Buffer> | undefined;
    const early = createNetServer((socket) => {
      received = new Promise((done) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let bodyStart = -1;
        let bodyLength = 0;
        socket.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          if (bodyStart < 0) {
            const head = Buffer.concat(chunks);
            const headerEnd = head.indexOf('\r\n\r\n');
            if (headerEnd < 0) return;
            bodyStart = headerEnd + 4;
            bodyLength = Number(/content-length: (\d+)/i.exec(head.subarray(0, headerEnd).toString())![1]);
            socket.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 9\r\n\r\ntoo large');
            socket.pause();
            setTimeout(() => socket.resume(), 200);
          }
          if (size >= bodyStart + bodyLength) done(Buffer.concat(chunks).subarray(bodyStart, bodyStart + bodyLength));
        });
      });
    });
    await new Promise<void>((r) => early.listen(0, '127.0.0.1', r));
    try {
      const e = createOtlpHttpExporter({
        signal: 'metrics',
        userAgent: 'x',
        config: { ...base, endpoint: `http://127.0.0.1:${(early.address() as AddressInfo).port}/v1/metrics`, timeoutMs: 10_000 },
      });
      const expected = Buffer.from(big);
      const result = await e.export({ signal: 'metrics', payload: big, items: 1, deadline: Date.now() + 10_000 });
      big.fill(0); // what the next request would do with the buffer
      expect(result).toMatchObject({ status: 'permanent', httpStatus: 413 });
      expect((await received!).equals(expected)).toBe(true);
    } finally {
      early.close();
    }
  });

  it('refuses a backend whose TLS certificate is not trusted, as retryable, naming the reason', async () => {
    const { cert, keyFile } = await buildCertificate();
    const server = createHttpsServer({ cert, key: readFileSync(keyFile) }, (_req, res) => res.writeHead(200).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `https://localhost:${(server.address() as AddressInfo).port}/v1/metrics`;
      const result = await send(createOtlpHttpExporter({ signal: 'metrics', userAgent: 'x', config: { ...base, endpoint } }));
      expect(result).toMatchObject({
        status: 'retryable',
        message: expect.stringMatching(/SELF_SIGNED_CERT/),
        detail: expect.stringMatching(/self-signed certificate/),
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
