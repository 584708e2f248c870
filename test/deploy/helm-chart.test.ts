import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../src/config/load.ts';

/**
 * No helm binary here, so the chart is checked statically: values against the schema, every `.Values`
 * path the templates use against values.yaml, the templates' YAML with the template actions set aside,
 * the recommended labels, and the environment the chart sets against what the service reads.
 * (`.ci/run` also runs `helm lint` and `helm template` wherever helm is installed.)
 */
const CHART = resolve(import.meta.dirname, '../../helm/firetap');
const read = (path: string) => readFileSync(join(CHART, path), 'utf8');
const defaults = parseYaml(read('values.yaml')) as Record<string, unknown>;
const schema = JSON.parse(read('values.schema.json'));
const templates = readdirSync(join(CHART, 'templates')).map((name) => ({ name, text: read(`templates/${name}`) }));
const manifests = templates.filter((t) => t.name.endsWith('.yaml'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(out[k]) && isObject(v) ? merge(out[k] as Record<string, unknown>, v) : v;
  return out;
}
function leafPaths(value: unknown, prefix = ''): string[] {
  if (!isObject(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}
function has(values: Record<string, unknown>, path: string): boolean {
  let node: unknown = values;
  for (const key of path.split('.')) {
    if (!isObject(node) || !(key in node)) return false;
    node = node[key];
  }
  return true;
}
const valuesPaths = (text: string) => [...text.matchAll(/\.Values((?:\.[A-Za-z0-9_]+)+)/g)].map((m) => m[1]!.slice(1));

describe('the Helm chart', () => {
  it('has default values that satisfy values.schema.json', () => {
    expect(validate(defaults), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each(readdirSync(join(CHART, 'ci')))('accepts the example values %s', (file) => {
    const values = merge(defaults, parseYaml(read(`ci/${file}`)) as Record<string, unknown>);
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    ['a replica count that is not a number', { replicaCount: 'two' }],
    ['an unknown top-level key', { replicas: 2 }],
    ['an OTLP protocol firetap does not speak', { otlp: { protocol: 'grpc' } }],
    ['an endpoint that is not a URL', { otlp: { endpoint: 'collector:4318' } }],
    ['a region that is not one', { enrichment: { regions: ['Ireland'] } }],
    ['a role that is not a role ARN', { enrichment: { roles: [{ roleArn: 'firetap-reader' }] } }],
    ['an ALB without a certificate', { ingress: { enabled: true } }],
    ['a request timeout beyond what Firehose waits', { config: { requestTimeoutMs: 200000 } }],
    ['a logs format firetap does not read', { sources: { logsFormat: 'syslog' } }],
    ['a VPC flow log format without ${field} tokens', { sources: { vpcFlowLogFormat: 'version account-id' } }],
    ['an EventBridge API key header that is no header name', { eventbridge: { apiKeyHeader: 'x api key' } }],
  ])('rejects %s', (_name, override) => {
    expect(validate(merge(defaults, override as Record<string, unknown>))).toBe(false);
  });

  it('uses only values that values.yaml defines', () => {
    const missing = templates.flatMap((t) => valuesPaths(t.text).filter((p) => !has(defaults, p)).map((p) => `${t.name}: .Values.${p}`));
    expect(missing).toEqual([]);
  });

  it('uses every value values.yaml defines', () => {
    const used = templates.flatMap((t) => valuesPaths(t.text));
    const unused = leafPaths(defaults).filter((leaf) => !used.some((u) => leaf === u || leaf.startsWith(`${u}.`)));
    expect(unused).toEqual([]);
  });

  it.each(manifests.map((m) => [m.name, m.text]))('%s is well-formed YAML once the template actions are set aside', (_name, text) => {
    const lines = text
      .split('\n')
      // A line holding only actions (if/range/with/end/include … nindent) renders to nothing or to indented YAML.
      .filter((line) => line.trim().replace(/\{\{-?[\s\S]*?-?\}\}/g, '').trim() !== '' || !line.includes('{{'))
      .map((line) => line.replace(/\{\{-?[\s\S]*?-?\}\}/g, 'TEMPLATED'));
    const docs = parseAllDocuments(lines.join('\n'));
    for (const doc of docs) {
      expect(doc.errors.map((e) => e.message)).toEqual([]);
      const json = doc.toJSON() as Record<string, any> | null;
      if (json === null) continue;
      expect(json).toMatchObject({ apiVersion: expect.any(String), kind: expect.any(String), metadata: { name: expect.any(String) } });
    }
  });

  it('puts the Kubernetes recommended labels on every resource', () => {
    const helpers = templates.find((t) => t.name === '_helpers.tpl')!.text;
    for (const label of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/component', 'app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by', 'helm.sh/chart']) {
      expect(helpers).toContain(`${label}:`);
    }
    for (const m of manifests) expect(m.text, m.name).toContain('include "firetap.labels" .');
  });

  it('probes /healthz and /readyz, runs as non-root on a read-only root filesystem, and outlasts the drain', () => {
    const deployment = manifests.find((m) => m.name === 'deployment.yaml')!.text;
    expect(deployment).toMatch(/livenessProbe:\s+httpGet:\s+path: \/healthz/);
    expect(deployment).toMatch(/readinessProbe:\s+httpGet:\s+path: \/readyz/);
    const security = defaults.securityContext as Record<string, unknown>;
    expect(security).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(defaults.podSecurityContext).toMatchObject({ runAsNonRoot: true });
    const shutdown = (defaults.config as any).shutdown;
    expect(Number(defaults.terminationGracePeriodSeconds) * 1000).toBeGreaterThan(shutdown.delayMs + shutdown.timeoutMs);
  });

  it('sets no environment variable the service does not read, and makes every setting reachable', () => {
    const deployment = manifests.find((m) => m.name === 'deployment.yaml')!.text;
    const configmap = manifests.find((m) => m.name === 'configmap.yaml')!.text;
    const set = [...deployment.matchAll(/- name: ([A-Z][A-Z0-9_]+)\n/g)].map((m) => m[1]!);
    const read = new Map(ENV.map(([name, path]) => [name, path]));
    const sdk = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
    expect(set.filter((name) => !read.has(name) && !sdk.includes(name) && name !== 'FIRETAP_CONFIG')).toEqual([]);

    const coveredPaths = new Set(set.map((n) => read.get(n)).filter(Boolean));
    // The config file the chart writes sets what the environment cannot express.
    for (const path of ['enrichment.roles', 'enrichment.includeDefaultCredentials']) {
      expect(configmap).toContain(path.split('.')[1]);
      coveredPaths.add(path);
    }
    // Reachable through extraEnv, as OpenTelemetry's per-signal overrides of settings the chart sets once.
    const throughExtraEnv = /^OTEL_EXPORTER_OTLP_(METRICS|LOGS)_(HEADERS|COMPRESSION|PROTOCOL|TIMEOUT)$/;
    const unreachable = ENV.filter(([name, path]) => !coveredPaths.has(path) && !throughExtraEnv.test(name)).map(([name]) => name);
    expect(unreachable).toEqual([]);
  });
});
