import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { EXPORTER_FACTORIES } from '../../../src/export/exporter-types.ts';
import type { Exporter } from '../../../src/export/exporter.ts';
import { createHttpExporter } from '../../../src/export/http-exporter.ts';
import { createSigv4Signer, inferSigv4Scope } from '../../../src/export/sigv4.ts';
import { otlpTypes } from '../../../src/otlp/schema.ts';
import { buildTestApp } from '../../helpers/build-test-app.ts';
import { firehoseBody, firehoseHeaders, logsMessage, logsRecord } from '../../helpers/cloudwatch-fixtures.ts';
import { CREDENTIALS, type Received, useTestCredentials, verifies } from '../../helpers/sigv4-verify.ts';

let server: Server;
let url = '';
let received: Received[] = [];
useTestCredentials();
beforeEach(async () => {
  received = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

const logsPayload = () =>
  otlpTypes.ExportLogsServiceRequest.encode(
    otlpTypes.ExportLogsServiceRequest.fromObject({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'hello from a log group' } }] }] }] }),
  ).finish();

function logsExporter(env: Record<string, string>): Exporter {
  const config = loadConfig({
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${url}/v1/logs`,
    OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-aws-log-group=app,x-aws-log-stream=firetap',
    FIRETAP_SIGV4_REGION: 'eu-west-1',
    FIRETAP_SIGV4_SERVICE: 'logs',
    ...env,
  });
  return EXPORTER_FACTORIES['otlp-http']({ signal: 'logs', config, userAgent: 'firetap/test', debugOutput: undefined, reliable: (e) => e });
}
const send = (exporter: Exporter) => exporter.export({ signal: 'logs', payload: logsPayload(), items: 1, deadline: Date.now() + 5000 });

describe('SigV4 signing of OTLP/HTTP exports', () => {
  it('signs each request so that an independent SigV4 implementation verifies it, and a tampered body does not', async () => {
    expect(await send(logsExporter({ OTEL_EXPORTER_OTLP_AUTH: 'sigv4' }))).toEqual({ status: 'success' });
    const [request] = received;
    expect(request!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(request!.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    const signed = /SignedHeaders=([^,]+)/.exec(String(request!.headers.authorization))![1]!.split(';');
    expect(signed).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'content-type', 'x-aws-log-group', 'x-aws-log-stream', 'x-amz-security-token']));
    expect(verifies(request!, 'eu-west-1', 'logs')).toBe(true);

    const tampered = Buffer.from(request!.body);
    tampered[tampered.length - 1]! ^= 1;
    expect(verifies({ ...request!, body: tampered }, 'eu-west-1', 'logs')).toBe(false);
    expect(verifies(request!, 'us-east-1', 'logs')).toBe(false);
    expect(JSON.stringify(request!.headers)).not.toContain(CREDENTIALS.secretAccessKey);
  });

  it('with compression=gzip, signs the compressed bytes as sent', async () => {
    await send(logsExporter({ OTEL_EXPORTER_OTLP_LOGS_AUTH: 'sigv4', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }));
    const [request] = received;
    expect(request!.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(request!.body)).toEqual(Buffer.from(logsPayload()));
    expect(verifies(request!, 'eu-west-1', 'logs')).toBe(true);
    expect(verifies({ ...request!, body: gunzipSync(request!.body) }, 'eu-west-1', 'logs')).toBe(false);
  });

  it('sends no signature when auth is none (the default)', async () => {
    await send(logsExporter({}));
    expect(received[0]!.headers.authorization).toBeUndefined();
    expect(received[0]!.headers['x-amz-date']).toBeUndefined();
  });

  it('a signal-specific auth setting wins over the shared one', async () => {
    await send(logsExporter({ OTEL_EXPORTER_OTLP_AUTH: 'sigv4', OTEL_EXPORTER_OTLP_LOGS_AUTH: 'none' }));
    expect(received[0]!.headers.authorization).toBeUndefined();
  });

  it('fails the attempt as retryable, naming no secret, when no credentials can be had', async () => {
    const exporter = createHttpExporter({
      name: 'OTLP logs backend',
      url: `${url}/v1/logs`,
      headers: {},
      timeoutMs: 2000,
      sign: createSigv4Signer({ region: 'eu-west-1', service: 'logs' }, () => Promise.reject(new Error('Could not load credentials from any providers'))),
    });
    const result = await send(exporter);
    expect(result).toMatchObject({ status: 'retryable', message: 'OTLP logs backend: signing the request failed' });
    expect(received).toHaveLength(0);
  });
});

describe('SigV4 region and service', () => {
  it.each([
    ['logs.us-east-1.amazonaws.com', 'us-east-1', 'logs'],
    ['xray.eu-west-1.amazonaws.com', 'eu-west-1', 'xray'],
    ['monitoring.ap-southeast-2.amazonaws.com', 'ap-southeast-2', 'monitoring'],
    ['my-pipeline-abc123.us-west-2.osis.amazonaws.com', 'us-west-2', 'osis'],
    ['aps-workspaces.eu-central-1.amazonaws.com', 'eu-central-1', 'aps'],
  ])('are inferred from %s', (host, region, service) => {
    expect(inferSigv4Scope(host)).toEqual({ region, service });
  });

  it('are not inferred from a host that is no AWS OTLP endpoint', () => {
    expect(inferSigv4Scope('otel.example.com')).toBeUndefined();
    expect(inferSigv4Scope('logs.us-east-1.amazonaws.com.example.com')).toBeUndefined();
  });

  const problem = (env: Record<string, string>) => {
    try {
      EXPORTER_FACTORIES['otlp-http']({ signal: 'logs', config: loadConfig(env), userAgent: 'x', debugOutput: undefined, reliable: (e) => e });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('an unknown host with sigv4 and no overrides is a ConfigError naming the overrides', () => {
    const message = problem({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com', OTEL_EXPORTER_OTLP_AUTH: 'sigv4' });
    expect(message).toContain('FIRETAP_SIGV4_REGION');
    expect(message).toContain('FIRETAP_SIGV4_SERVICE');
    expect(message).toContain('otel.example.com');
  });

  it('CloudWatch Logs without the log group and stream headers is a ConfigError saying to set them', () => {
    const message = problem({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://logs.us-east-1.amazonaws.com/v1/logs', OTEL_EXPORTER_OTLP_LOGS_AUTH: 'sigv4' });
    expect(message).toContain('x-aws-log-group and x-aws-log-stream');
    expect(message).toContain('OTEL_EXPORTER_OTLP_LOGS_HEADERS');
  });

  it('the overrides win over what the host implies', async () => {
    const config = loadConfig({
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${url}/v1/metrics`,
      OTEL_EXPORTER_OTLP_METRICS_AUTH: 'sigv4',
      FIRETAP_SIGV4_REGION: 'ap-south-1',
      FIRETAP_SIGV4_SERVICE: 'monitoring',
    });
    expect(config.otlp.metrics).toMatchObject({ auth: 'sigv4', sigv4Region: 'ap-south-1', sigv4Service: 'monitoring' });
    const exporter = EXPORTER_FACTORIES['otlp-http']({ signal: 'metrics', config, userAgent: 'x', debugOutput: undefined, reliable: (e) => e });
    const payload = otlpTypes.ExportMetricsServiceRequest.encode({}).finish();
    await exporter.export({ signal: 'metrics', payload, items: 0, deadline: Date.now() + 5000 });
    expect(verifies(received[0]!, 'ap-south-1', 'monitoring')).toBe(true);
  });
});

describe('the CloudWatch Logs OTLP target', () => {
  const LOGS_ENV = {
    OTEL_EXPORTER_OTLP_LOGS_AUTH: 'sigv4',
    FIRETAP_SIGV4_REGION: 'eu-west-1',
    FIRETAP_SIGV4_SERVICE: 'logs',
    OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-aws-log-group=firetap-fallback,x-aws-log-stream=firetap',
    FIRETAP_LOGS_EXPORTERS: 'otlp-http',
  };
  const post = async (env: Record<string, string>, groups: string[]) => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${url}/v1/logs`, ...LOGS_ENV, ...env });
    const records = groups.map((logGroup) => logsRecord(logsMessage({ logGroup, events: [{ timestamp: 1_795_000_000_000, message: `from ${logGroup}` }] })));
    const res = await t.app.inject({ method: 'POST', url: '/firehose/logs', headers: firehoseHeaders('cwl'), payload: firehoseBody(records, 'cwl') });
    expect(res.statusCode).toBe(200);
    expect(received).toHaveLength(1);
    expect(verifies(received[0]!, 'eu-west-1', 'logs')).toBe(true);
    return received[0]!.headers;
  };

  it('sends an export whose records all come from one log group to that group, signed with it, the stream as configured', async () => {
    const headers = await post({}, ['/aws/lambda/checkout', '/aws/lambda/checkout']);
    expect(headers['x-aws-log-group']).toBe('/aws/lambda/checkout');
    expect(headers['x-aws-log-stream']).toBe('firetap');
  });

  it('sends an export of several log groups to the configured group', async () => {
    expect((await post({}, ['/aws/lambda/checkout', '/aws/lambda/orders']))['x-aws-log-group']).toBe('firetap-fallback');
  });

  it('sends every export to the configured group with FIRETAP_CLOUDWATCH_LOGS_GROUP=configured', async () => {
    expect((await post({ FIRETAP_CLOUDWATCH_LOGS_GROUP: 'configured' }, ['/aws/lambda/checkout']))['x-aws-log-group']).toBe('firetap-fallback');
  });
});
