import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';
import { uncompressSync } from 'snappy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { EXPORTER_FACTORIES } from '../../../src/export/exporter-types.ts';
import type { Exporter } from '../../../src/export/exporter.ts';
import { resourceLabels, withLabels } from '../../../src/export/otel-to-prometheus.ts';
import { remoteWriteScope } from '../../../src/export/prometheus-remote-write.ts';
import { createExporters, exporterTypes } from '../../../src/export/registry.ts';
import { toSeries } from '../../../src/export/remote-write-request.ts';
import { encodeMetricsRequest, jsonNanos, jsonString } from '../../../src/otlp/schema.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';
import { metricStreamRequest } from '../../helpers/cloudwatch-fixtures.ts';
import { type Received, useTestCredentials, verifies } from '../../helpers/sigv4-verify.ts';

/** prometheus/prompb's WriteRequest, written here from its .proto field numbers: a decoder independent of firetap's writer. */
const WriteRequest = protobuf.Root.fromJSON({
  nested: {
    WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
    TimeSeries: { fields: { labels: { rule: 'repeated', type: 'Label', id: 1 }, samples: { rule: 'repeated', type: 'Sample', id: 2 } } },
    Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
    Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
  },
}).lookupType('WriteRequest');

const decodeBody = (body: Buffer) =>
  (WriteRequest.toObject(WriteRequest.decode(uncompressSync(body) as Buffer), { longs: Number }).timeseries as Array<{
    labels: Array<{ name: string; value: string }>;
    samples: Array<{ value: number; timestamp: number }>;
  }>) ?? [];

let server: Server;
let url = '';
let received: Received[] = [];
let statuses: number[] = [];
useTestCredentials();
beforeEach(async () => {
  received = [];
  statuses = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(statuses.shift() ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

const T = 1_795_000_000_000;
const streamPayload = () =>
  metricStreamRequest({ account: '123456789012', region: 'eu-west-1', streamName: 's' }, [
    { namespace: 'AWS/EC2', metricName: 'CPUUtilization', dimensions: { InstanceId: 'i-0abc' }, timeMs: T, count: 2, sum: 10, min: 4, max: 6 },
  ]);

function exporter(env: Record<string, string>): Exporter {
  const config = loadConfig({ FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: `${url}/workspaces/ws-1/api/v1/remote_write`, ...env });
  return EXPORTER_FACTORIES['prometheus-remote-write']({ signal: 'metrics', config, userAgent: 'firetap/test', debugOutput: undefined, reliable: (e) => e });
}
const send = (e: Exporter) => e.export({ signal: 'metrics', payload: streamPayload(), items: 1, deadline: Date.now() + 5000 });

describe('the Prometheus remote-write exporter', () => {
  it('posts a snappy-compressed WriteRequest with the remote-write 1.0 headers, labels sorted, samples at the CloudWatch time', async () => {
    expect(await send(exporter({ FIRETAP_PROMETHEUS_REMOTE_WRITE_HEADERS: 'X-Scope-OrgID=acme' }))).toEqual({ status: 'success' });
    const [request] = received;
    expect(request!.path).toBe('/workspaces/ws-1/api/v1/remote_write');
    expect(request!.headers).toMatchObject({
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      'x-scope-orgid': 'acme',
    });
    const series = decodeBody(request!.body);
    for (const s of series) {
      const names = s.labels.map((l) => l.name);
      expect(names).toEqual([...names].sort());
    }
    const max = series.find((s) => s.labels.some((l) => l.name === 'quantile' && l.value === '1'))!;
    expect(Object.fromEntries(max.labels.map((l) => [l.name, l.value]))).toMatchObject({
      __name__: 'amazonaws_com_AWS_EC2_CPUUtilization',
      MetricName: 'CPUUtilization',
      cloud_region: 'eu-west-1',
    });
    expect(max.samples).toEqual([{ value: 6, timestamp: T }]);
  });

  it.each([
    ['bearer', { FIRETAP_PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN: 'glc_token' }, 'Bearer glc_token'],
    ['basic', { FIRETAP_PROMETHEUS_REMOTE_WRITE_BASIC_AUTH: '123456:glc_secret' }, `Basic ${Buffer.from('123456:glc_secret').toString('base64')}`],
  ])('sends %s auth as the Authorization header', async (auth, env, header) => {
    await send(exporter({ FIRETAP_PROMETHEUS_REMOTE_WRITE_AUTH: auth, ...env }));
    expect(received[0]!.headers.authorization).toBe(header);
  });

  it('retries a 5xx and a 429, and gives up on any other 4xx as permanent', async () => {
    const e = exporter({});
    statuses = [500, 429, 400];
    expect(await send(e)).toMatchObject({ status: 'retryable', message: 'Prometheus remote-write backend answered 500' });
    expect(await send(e)).toMatchObject({ status: 'retryable', message: 'Prometheus remote-write backend answered 429' });
    expect(await send(e)).toMatchObject({ status: 'permanent', httpStatus: 400 });
  });

  it('signs for AMP (service aps) so that an independent SigV4 implementation verifies the compressed body as sent', async () => {
    expect(await send(exporter({ FIRETAP_PROMETHEUS_REMOTE_WRITE_AUTH: 'sigv4', FIRETAP_PROMETHEUS_REMOTE_WRITE_SIGV4_REGION: 'eu-central-1' }))).toEqual({
      status: 'success',
    });
    const [request] = received;
    expect(verifies(request!, 'eu-central-1', 'aps')).toBe(true);
    expect(verifies(request!, 'eu-central-1', 'logs')).toBe(false);
    expect(verifies({ ...request!, body: uncompressSync(request!.body) as Buffer }, 'eu-central-1', 'aps')).toBe(false);
    const signed = /SignedHeaders=([^,]+)/.exec(String(request!.headers.authorization))![1]!.split(';');
    expect(signed).toEqual(expect.arrayContaining(['content-encoding', 'content-type', 'host', 'x-amz-date', 'x-prometheus-remote-write-version']));
  });

  it("infers the region from AMP's host and signs for aps", () => {
    const config = loadConfig({
      FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: 'https://aps-workspaces.ap-southeast-2.amazonaws.com/workspaces/ws-0a1b/api/v1/remote_write',
      FIRETAP_PROMETHEUS_REMOTE_WRITE_AUTH: 'sigv4',
    });
    expect(remoteWriteScope({ ...config.prometheusRemoteWrite, url: config.prometheusRemoteWrite.url! })).toEqual({ region: 'ap-southeast-2', service: 'aps' });
  });
});

describe('remote-write settings', () => {
  const problem = (env: Record<string, string>) => {
    try {
      createExporters(loadConfig(env), createMetrics());
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('fans the metrics out to OTLP and remote write when both are set, and to remote write alone when it alone is', () => {
    const both = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: 'http://127.0.0.1:9090/api/v1/write',
    });
    expect([exporterTypes(both, 'metrics'), exporterTypes(both, 'logs')]).toEqual([['otlp-http', 'prometheus-remote-write'], ['otlp-http']]);
    const alone = loadConfig({ FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: 'http://127.0.0.1:9090/api/v1/write' });
    expect([exporterTypes(alone, 'metrics'), exporterTypes(alone, 'logs')]).toEqual([['prometheus-remote-write'], ['debug']]);
  });

  it.each([
    [{ FIRETAP_METRICS_EXPORTERS: 'prometheus-remote-write' }, 'no URL is set: set FIRETAP_PROMETHEUS_REMOTE_WRITE_URL'],
    [{ FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: 'http://p:9090/api/v1/write', FIRETAP_LOGS_EXPORTERS: 'prometheus-remote-write' }, 'takes metrics only'],
    [
      { FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: 'http://p:9090/api/v1/write', FIRETAP_PROMETHEUS_REMOTE_WRITE_AUTH: 'bearer' },
      'set FIRETAP_PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN',
    ],
    [
      { FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: 'http://p:9090/api/v1/write', FIRETAP_PROMETHEUS_REMOTE_WRITE_AUTH: 'basic' },
      'set FIRETAP_PROMETHEUS_REMOTE_WRITE_BASIC_AUTH=<user>:<password>',
    ],
    [
      { FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: 'https://mimir.example.com/api/v1/push', FIRETAP_PROMETHEUS_REMOTE_WRITE_AUTH: 'sigv4' },
      'mimir.example.com names no region',
    ],
  ])('names what is missing: %j', (env, message) => {
    expect(problem(env)).toContain(message);
  });

  it('never shows the token or password of a malformed setting', () => {
    expect(() => loadConfig({ FIRETAP_PROMETHEUS_REMOTE_WRITE_BASIC_AUTH: 'no-colon-secret' })).toThrow(
      /FIRETAP_PROMETHEUS_REMOTE_WRITE_BASIC_AUTH: expected user:password$/,
    );
  });
});

describe('OpenTelemetry metrics that are no metric stream, as Prometheus series', () => {
  const point = (value: number, attrs: Array<[string, string]> = [['route', '/a']]) => ({
    attributes: attrs.map(([k, v]) => jsonString(k, v)),
    timeUnixNano: jsonNanos(T),
    asDouble: value,
  });
  const series = (metrics: object[]) =>
    Object.fromEntries(
      [...toSeries(encodeMetricsRequest([['service.name', 'shop']], metrics), 'yace').series()].map((s) => [
        s.labels.map(([k, v]) => (k === '__name__' ? v : `${k}=${v}`)).join(' '),
        s.samples.map((x) => x.value),
      ]),
    );

  it('writes a gauge as is, a cumulative monotonic sum as _total, a delta sum as its interval value, named and labelled validly', () => {
    expect(
      series([
        { name: 'queue.depth', gauge: { dataPoints: [point(7)] } },
        { name: 'http.requests', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [point(41)] } },
        { name: 'log.lines', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [point(3, [['aws.log.group', 'g']])] } },
      ]),
    ).toEqual({
      'queue_depth job=shop route=/a service_name=shop': [7],
      'http_requests_total job=shop route=/a service_name=shop': [41],
      'log_lines aws_log_group=g job=shop service_name=shop': [3],
    });
  });

  it('writes a histogram as cumulative _bucket series with le, _sum and _count', () => {
    const histogram = {
      name: 'latency',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [{ timeUnixNano: jsonNanos(T), count: '6', sum: 12.5, explicitBounds: [1, 5], bucketCounts: ['1', '3', '2'] }],
      },
    };
    expect(series([histogram])).toEqual({
      'latency_bucket job=shop le=1 service_name=shop': [1],
      'latency_bucket job=shop le=5 service_name=shop': [4],
      'latency_bucket job=shop le=+Inf service_name=shop': [6],
      'latency_sum job=shop service_name=shop': [12.5],
      'latency_count job=shop service_name=shop': [6],
    });
  });

  it("puts a series' samples in time order, a second sample at the same millisecond replacing the first", () => {
    const at = (ms: number, value: number) => ({ timeUnixNano: jsonNanos(ms), asDouble: value });
    const [only, ...rest] = [
      ...toSeries(encodeMetricsRequest([], [{ name: 'g', gauge: { dataPoints: [at(T + 2000, 3), at(T, 1), at(T + 2000, 4)] } }]), 'otel').series(),
    ];
    expect(rest).toEqual([]);
    expect(only!.samples).toEqual([
      { timestampMs: T, value: 1 },
      { timestampMs: T + 2000, value: 4 },
    ]);
  });

  it("joins the values of a point's two attributes that make one label name with ';', and lets a point's attribute win over its resource's", () => {
    expect(withLabels(resourceLabels({ 'host.name': 'from-resource', env: 'prod' }), { 'a.b': 'x', a_b: 'y', host_name: 'from-point' })).toEqual({
      host_name: 'from-point',
      env: 'prod',
      a_b: 'x;y',
    });
  });
});
