import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { unknownSettings } from '../../../src/config/unknown-settings.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../../src/config/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'firetap-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const problem = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('runs with no configuration at all: port 8080, no keys, debug exporters', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', accessKeys: [], maxBodyBytes: DEFAULT_MAX_BODY_BYTES });
    expect(c.otlp.metrics.endpoint).toBeUndefined();
    expect(c.otlp.logs).toEqual({ endpoint: undefined, headers: {}, compression: 'none', protocol: 'http/protobuf', timeoutMs: 10_000 });
  });

  it('admits the largest legal Firehose request by default: 64 MiB of records, base64-encoded, in the envelope', () => {
    const envelope = Math.ceil((64 * 1024 * 1024) / 3) * 4 + 10_000 * '{"data":""},'.length + 200;
    expect(DEFAULT_MAX_BODY_BYTES).toBeGreaterThan(envelope);
  });

  it('appends the signal path to OTEL_EXPORTER_OTLP_ENDPOINT and takes signal endpoints as they are', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).otlp.metrics.endpoint).toBe('http://collector:4318/v1/metrics');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp/' }).otlp.logs.endpoint).toBe('http://collector:4318/otlp/v1/logs');
    const c = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://loki.example/otlp/v1/logs' });
    expect([c.otlp.metrics.endpoint, c.otlp.logs.endpoint]).toEqual(['http://a:4318/v1/metrics', 'https://loki.example/otlp/v1/logs']);
    expect(c.otlp.traces.endpoint).toBe('http://a:4318/v1/traces');
    const t = loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://tempo.example/otlp/v1/traces', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip' });
    expect([t.otlp.traces.endpoint, t.otlp.traces.compression, t.otlp.logs.endpoint]).toEqual(['https://tempo.example/otlp/v1/traces', 'gzip', undefined]);
  });

  it('reads the traces settings: exporters, the log groups whose events are spans, and the spans per export', () => {
    expect(loadConfig({}).traces).toEqual({ logGroups: ['aws/spans'], maxBatchSpans: 10_000 });
    const c = loadConfig({ FIRETAP_TRACES_EXPORTERS: 'debug', FIRETAP_SPAN_LOG_GROUPS: 'aws/spans,/otel/*', FIRETAP_TRACES_MAX_BATCH_SPANS: '500' });
    expect(c.traces).toEqual({ exporters: ['debug'], logGroups: ['aws/spans', '/otel/*'], maxBatchSpans: 500 });
    expect(() => loadConfig({ FIRETAP_TRACES_MAX_BATCH_SPANS: '0' })).toThrow(/FIRETAP_TRACES_MAX_BATCH_SPANS/);
  });

  it('lets signal-specific exporter settings win over shared ones', () => {
    const c = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc,X-Scope-OrgID=team-a',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'X-Scope-OrgID=team-m',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '2000',
    });
    expect(c.otlp.metrics).toMatchObject({
      headers: { Authorization: 'Bearer abc', 'X-Scope-OrgID': 'team-m' },
      compression: 'gzip',
      protocol: 'http/json',
      timeoutMs: 2000,
    });
    expect(c.otlp.logs).toMatchObject({ headers: { Authorization: 'Bearer abc', 'X-Scope-OrgID': 'team-a' }, compression: 'none', timeoutMs: 5000 });
  });

  it('reads several access keys for rotation', () => {
    expect(loadConfig({ FIRETAP_ACCESS_KEYS: ' old-key , new-key,,' }).accessKeys).toEqual(['old-key', 'new-key']);
  });

  it('decodes metric records on one thread beside the main one when there is more than one CPU, on as many as FIRETAP_DECODE_THREADS says', () => {
    expect(loadConfig({}).decodeThreads).toBe(availableParallelism() > 1 ? 1 : 0);
    expect(loadConfig({ FIRETAP_DECODE_THREADS: '0' }).decodeThreads).toBe(0);
    expect(loadConfig({ FIRETAP_DECODE_THREADS: '3' }).decodeThreads).toBe(3);
    expect(problem({ FIRETAP_DECODE_THREADS: 'many' })).toContain('FIRETAP_DECODE_THREADS');
    expect(problem({ FIRETAP_DECODE_THREADS: '-1' })).toContain('FIRETAP_DECODE_THREADS');
  });

  it('reads a YAML config file, and the environment wins over it', () => {
    const path = file(
      'c.yaml',
      'port: 9000\naccessKeys: [from-file]\nresourceAttributes:\n  service.name: cloudwatch\notlp:\n  endpoint: http://file:4318\n  logs:\n    protocol: http/json\n',
    );
    const c = loadConfig({ FIRETAP_CONFIG: path, PORT: '9100' });
    expect(c.port).toBe(9100);
    expect(c.accessKeys).toEqual(['from-file']);
    expect(c.resourceAttributes).toEqual({ 'service.name': 'cloudwatch' });
    expect(c.otlp.logs).toMatchObject({ endpoint: 'http://file:4318/v1/logs', protocol: 'http/json' });
  });

  it('reads a JSON config file', () => {
    expect(loadConfig({ FIRETAP_CONFIG: file('c.json', '{"maxRecordBytes": 1048576}') }).maxRecordBytes).toBe(1_048_576);
  });

  it('returns a deep-frozen object', () => {
    const c = loadConfig({ FIRETAP_ACCESS_KEYS: 'k' });
    expect(Object.isFrozen(c) && Object.isFrozen(c.accessKeys) && Object.isFrozen(c.otlp.metrics)).toBe(true);
  });

  it('reports every bad setting at once, naming the variable and the value it had', () => {
    const message = problem({ PORT: 'eighty', FIRETAP_MAX_BODY_BYTES: '-1', OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' });
    expect(message).toContain('PORT:');
    expect(message).toContain('(actual: "eighty")');
    expect(message).toContain('FIRETAP_MAX_BODY_BYTES:');
    expect(message).toContain('(actual: "-1")');
    expect(message).toContain('OTEL_EXPORTER_OTLP_COMPRESSION:');
    expect(message).toContain('"zstd"');
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: expected a URL with its scheme: add http:// or https://'],
    [
      { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'otel-collector:4318/v1/logs' },
      'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: expected a URL with its scheme: add http:// or https://',
    ],
    [{ FIRETAP_METER_ENDPOINT: 'ftp://billing/ingest' }, 'FIRETAP_METER_ENDPOINT: expected an http:// or https:// URL'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'a=1,novalue' }, 'OTEL_EXPORTER_OTLP_HEADERS: entry 2 of 2 is not key=value'],
    [{ OTEL_EXPORTER_OTLP_HEADERS: 'a=100%' }, 'OTEL_EXPORTER_OTLP_HEADERS: entry 1 of 1 has a value that is not valid percent-encoding'],
    [{ FIRETAP_TLS_CERT_FILE: '/tmp/cert.pem' }, 'FIRETAP_TLS_KEY_FILE (tls.keyFile)'],
    [{ FIRETAP_REQUEST_TIMEOUT_MS: '200000' }, 'FIRETAP_REQUEST_TIMEOUT_MS'],
    [{ FIRETAP_CONFIG: '/nonexistent/firetap.yaml' }, 'FIRETAP_CONFIG: cannot read /nonexistent/firetap.yaml'],
    [{ FIRETAP_CONFIG: join(dir, 'list.yaml') }, 'must hold a mapping of settings, not a list'],
    [{ FIRETAP_CONFIG: join(dir, 'unknown.yaml') }, 'Unrecognized key'],
    [{ FIRETAP_LOGS_FORMAT: 'syslog' }, 'FIRETAP_LOGS_FORMAT: Invalid option: expected one of "auto"|"aws-spans"|"cloudwatch-logs"'],
    [{ FIRETAP_METRICS_FORMAT: 'otlp' }, 'FIRETAP_METRICS_FORMAT'],
    [{ FIRETAP_VPC_FLOW_LOG_FORMAT: 'version account-id' }, 'FIRETAP_VPC_FLOW_LOG_FORMAT: expected ${field} tokens'],
    [{ FIRETAP_LOG_NAME_PATTERNS: '/logs/{cluster},/logs/{namespace}.{pods}' }, 'FIRETAP_LOG_NAME_PATTERNS [1]: unknown placeholder {pods}'],
    [{ FIRETAP_DETECT_CLOUDTRAIL: 'maybe' }, 'FIRETAP_DETECT_CLOUDTRAIL: expected true or false'],
  ])('refuses %j', (env, message) => {
    file('list.yaml', '- a\n- b\n');
    file('unknown.yaml', 'prot: 1\n');
    expect(problem(env)).toContain(message);
  });

  it('reads how each route reads its records, and the log source settings', () => {
    const c = loadConfig({
      FIRETAP_LOGS_FORMAT: 'vpc-flow-logs',
      FIRETAP_METRICS_FORMAT: 'json',
      FIRETAP_CLOUDTRAIL_LOG_GROUPS: 'aws-cloudtrail-logs-*, /org/trail',
      FIRETAP_DETECT_CLOUDTRAIL: 'false',
      FIRETAP_LOG_NAME_PATTERNS: '/logs/{cluster} {namespace}.{pod}.{container}',
    });
    expect(c.logs).toMatchObject({
      format: 'vpc-flow-logs',
      cloudTrailLogGroups: ['aws-cloudtrail-logs-*', '/org/trail'],
      detectCloudTrail: false,
      namePatterns: ['/logs/{cluster} {namespace}.{pod}.{container}'],
    });
    expect(c.logs.vpcFlowLogFormat).toMatch(/^\$\{version\} \$\{account-id\}/);
    expect(c.metrics.format).toBe('json');
  });

  it('never echoes an access key or an exporter header in an error', () => {
    const message = problem({ FIRETAP_ACCESS_KEYS: 'x'.repeat(5000), OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=' });
    expect(message).toContain('FIRETAP_ACCESS_KEYS [0]: Too big');
    expect(message).not.toContain('xxxxxxxx');
  });
});

describe('unknownSettings', () => {
  it('names each FIRETAP_ variable firetap does not read, with the setting it most likely meant', () => {
    expect(
      unknownSettings({
        FIRETAP_PORT: '9000',
        FIRETAP_ACCESS_KEY: 'k',
        FIRETAP_ZZZZZZZ: '1',
        FIRETAP_ACCESS_KEYS: 'k',
        FIRETAP_CONFIG: '/c.yaml',
        PORT: '1',
        HOME: '/root',
      }),
    ).toEqual([
      { name: 'FIRETAP_ACCESS_KEY', didYouMean: 'FIRETAP_ACCESS_KEYS' },
      { name: 'FIRETAP_PORT', didYouMean: 'PORT' },
      { name: 'FIRETAP_ZZZZZZZ', didYouMean: undefined },
    ]);
  });
});
