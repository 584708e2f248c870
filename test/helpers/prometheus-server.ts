import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One sample of a PromQL instant query's answer. */
export interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: number;
  readonly timestampMs: number;
}

/**
 * A real Prometheus (Debian's `prometheus` package, installed by test/setup/debian-packages.ts) as a remote-write
 * receiver: started on a free loopback port with a temporary data directory and configuration, queried with PromQL
 * over its HTTP API, stopped (and its directory removed) by `stop()`.
 */
export class PrometheusServer {
  url = '';
  private child: ChildProcess | undefined;
  private dir = '';
  private output = '';

  get remoteWriteUrl(): string {
    return `${this.url}/api/v1/write`;
  }

  async start(): Promise<this> {
    this.dir = mkdtempSync(join(tmpdir(), 'firetap-prometheus-'));
    writeFileSync(join(this.dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(
      'prometheus',
      [
        `--config.file=${join(this.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        // Metric streams' samples are minutes old; the test's are up to an hour.
        '--storage.tsdb.retention.time=1d',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (c: Buffer) => (this.output = (this.output + c.toString()).slice(-100_000));
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    for (let i = 0; i < 300; i++) {
      if (this.child.exitCode !== null) break;
      const ready = await fetch(`${this.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return this;
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop();
    throw new Error(`prometheus did not become ready:\n${this.output}`);
  }

  /** A PromQL instant query at `atMs` (default: now), its vector's samples. */
  async query(promql: string, atMs = Date.now()): Promise<PromSample[]> {
    const params = new URLSearchParams({ query: promql, time: String(atMs / 1000) });
    const res = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (body.status !== 'success') throw new Error(`PromQL ${promql} failed: ${body.error}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]), timestampMs: Math.round(r.value[0] * 1000) }));
  }

  /** The raw samples of a selector within the last `windowMs` before `atMs`: each with its own timestamp. */
  async samples(selector: string, atMs: number, windowMs = 3_600_000): Promise<Array<{ metric: Record<string, string>; values: Array<[number, number]> }>> {
    const params = new URLSearchParams({ query: `${selector}[${Math.ceil(windowMs / 1000)}s]`, time: String(atMs / 1000) });
    const body = (await (await fetch(`${this.url}/api/v1/query?${params}`)).json()) as {
      status: string;
      error?: string;
      data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
    };
    if (body.status !== 'success') throw new Error(`PromQL ${selector} failed: ${body.error}`);
    return body.data.result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)] as [number, number]) }));
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
