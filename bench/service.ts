import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { imageNodeFlags } from '../test/helpers/service.ts';

/**
 * Compiles the service as the image ships it (`npm run build`: tsc → dist/) and returns the node arguments
 * the image's CMD runs it with (its V8 flags, then dist/main.js): measurements are of what users run, not
 * of Node stripping TypeScript types at load (which costs ~30 MB of RSS of its own) or of other heap sizes.
 */
export function compiledEntry(): string[] {
  const root = resolve(import.meta.dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  return [...imageNodeFlags(), join(root, 'dist/main.js')];
}

/** A loopback OTLP sink that only counts: the load generator must not be the bottleneck. */
export async function startCountingSink(opts: { delayMs?: number } = {}): Promise<{ url: string; close: () => void; bytes: () => number; requests: () => number }> {
  let bytes = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      requests++;
      const answer = () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      if (opts.delayMs) setTimeout(answer, opts.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close(), bytes: () => bytes, requests: () => requests };
}

/** Peak resident set (VmHWM) and CPU seconds of a process, from /proc. */
export function processStats(pid: number): { peakRssMb: number; rssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  return { peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024, cpuSeconds: ticks / 100 };
}
