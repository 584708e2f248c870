import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { buildCertificate } from '../helpers/certs.ts';
import { startService } from '../helpers/service.ts';
import { firehoseBody, firehoseHeaders, lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';

function post(port: number, ca: string, body: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/firehose/metrics', method: 'POST', ca, servername: 'localhost', headers: firehoseHeaders('tls-1') },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('TLS', () => {
  it('serves HTTPS with the configured certificate and key', async () => {
    const { certFile, keyFile, cert } = await buildCertificate();
    const t = await buildTestApp({ FIRETAP_TLS_CERT_FILE: certFile, FIRETAP_TLS_KEY_FILE: keyFile });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as { port: number }).port;
    const record = lengthPrefixed(metricStreamRequest({ account: '1', region: 'r', streamName: 's' }, sampleDatapoints(2)));
    const res = await post(port, cert, firehoseBody([record], 'tls-1'));
    expect(res).toMatchObject({ status: 200, json: { requestId: 'tls-1' } });
    expect(t.debug()).toHaveLength(2);
  });

  it('refuses to start when the certificate cannot be read, naming the file', async () => {
    const config = loadConfig({ FIRETAP_TLS_CERT_FILE: '/nonexistent/cert.pem', FIRETAP_TLS_KEY_FILE: '/nonexistent/key.pem' });
    await expect(buildApp(config)).rejects.toThrow(ConfigError);
    await expect(buildApp(config)).rejects.toThrow('FIRETAP_TLS_CERT_FILE: cannot read the TLS certificate /nonexistent/cert.pem');
  });

  it('exports to an HTTPS backend whose certificate authority is given with NODE_EXTRA_CA_CERTS', async () => {
    const { certFile, keyFile, cert } = await buildCertificate();
    const received: Buffer[] = [];
    const backend = createServer({ cert, key: readFileSync(keyFile) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    const svc = await startService({
      OTEL_EXPORTER_OTLP_ENDPOINT: `https://localhost:${(backend.address() as AddressInfo).port}`,
      NODE_EXTRA_CA_CERTS: certFile,
    });
    try {
      const record = lengthPrefixed(metricStreamRequest({ account: '1', region: 'r', streamName: 's' }, sampleDatapoints(2)));
      const res = await fetch(`${svc.base}/firehose/metrics`, {
        method: 'POST',
        headers: firehoseHeaders('tls-export'),
        body: firehoseBody([record], 'tls-export'),
      });
      expect(res.status).toBe(200);
      expect(received).toHaveLength(1);
    } finally {
      svc.child.kill('SIGTERM');
      await svc.exited;
      backend.closeAllConnections();
      backend.close();
    }
  });
});
