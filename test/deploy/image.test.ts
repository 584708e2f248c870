import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FakeS3 } from '../helpers/fake-s3.ts';
import { lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';
import { imageEnv, imageNodeFlags } from '../helpers/service.ts';
import { sdkEnv } from '../helpers/aws-env.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/**
 * No Docker engine here: these tests check the Dockerfile's text and do what its stages do — a
 * production-only install in a clean directory plus the compiled output — so that a runtime dependency
 * left in devDependencies, or a build that does not run, is caught.
 */
describe('the container image', () => {
  it('builds with dev dependencies, ships only production ones, on the Node major the project pins', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const nodeMajor = String(pkg.devDependencies.node).replace(/^\D*/, '').split('.')[0];
    for (const image of stages) expect(image).toMatch(new RegExp(`^node:${nodeMajor}[-.]`));
    expect(process.version.startsWith(`v${nodeMajor}.`)).toBe(true);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/npm run build/);
  });

  it('runs as a non-root user, node directly (signals reach it), and exposes the port', () => {
    expect(dockerfile).toMatch(/^USER (?!root)\S+/m);
    expect(dockerfile).toMatch(/^CMD \["node", .*"dist\/main\.js"\]/m);
    expect(dockerfile).not.toMatch(/CMD \["npm/);
    expect(dockerfile).toMatch(/^EXPOSE 8080/m);
    // `npm start` runs with the image's V8 heap flags, so that what users measure locally is what they deploy.
    const flags = imageNodeFlags().filter((f) => f !== '--enable-source-maps');
    expect(flags).toContain('--max-semi-space-size=4');
    expect(pkg.scripts.start.split(' ').filter((a: string) => a.startsWith('--'))).toEqual(flags);
    // And with its malloc setting (an environment variable: read by glibc when the process starts).
    expect(imageEnv()).toMatchObject({ NODE_ENV: 'production', MALLOC_ARENA_MAX: '2' });
    expect(pkg.scripts.start.split(' ')).toContain(`MALLOC_ARENA_MAX=${imageEnv().MALLOC_ARENA_MAX}`);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const path of ['node_modules', 'test', 'bench', '.git']) expect(ignored).toContain(path);
  });

  it('starts from a production-only install and the compiled output, and answers /healthz and a Firehose request, and runs `replay` against S3', {
    timeout: 180_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'firetap-image-'));
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(dir, f));
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, timeout: 150_000 });
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', join(dir, 'dist')], {
      timeout: 120_000,
    });

    const child = spawn(process.execPath, [...imageNodeFlags(), 'dist/main.js'], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...imageEnv(), HOST: '127.0.0.1', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      let base: string | undefined;
      for (let i = 0; i < 200 && !base; i++) {
        base = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
        if (!base) await new Promise((r) => setTimeout(r, 50));
      }
      expect(base, output).toBeDefined();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const body = readFileSync(join(ROOT, 'examples/metrics-request.json'));
      const res = await fetch(`${base}/firehose/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-amz-firehose-request-id': 'image-test' },
        body,
      });
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }

    // `firetap replay` from the same install: the S3 client is a production dependency, and the command runs compiled.
    const s3 = await new FakeS3().start();
    try {
      s3.put(
        'backup',
        'metrics/2026/11/22/object-1',
        lengthPrefixed(metricStreamRequest({ account: '123456789012', region: 'eu-west-1', streamName: 's' }, sampleDatapoints(4))),
      );
      const env = {
        PATH: process.env.PATH,
        ...sdkEnv({ AWS_ENDPOINT_URL_S3: s3.url }, 'AKIDIMAGE'),
      };
      const { stdout } = await run(process.execPath, ['dist/main.js', 'replay', '--dry-run', 's3://backup/metrics/'], { cwd: dir, env });
      expect(JSON.parse(stdout)).toMatchObject({ objects: 1, replayed: 1, items: 4, dryRun: true });
    } finally {
      await s3.stop();
    }
  });
});
