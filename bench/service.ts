import { execFileSync, fork } from 'node:child_process';
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

/**
 * A loopback OTLP sink that only counts, in a process of its own: in the load generator's, its reads of
 * the exports waited while that process posted the next requests, which held the service's exports (the
 * tagged ones most, being larger) and so its requests. `pid` lets its CPU be read as the load generator's is.
 */
export async function startCountingSink(
  opts: { delayMs?: number } = {},
): Promise<{ url: string; pid: number; counts: () => Promise<{ requests: number; bytes: number }>; close: () => void }> {
  const child = fork(import.meta.filename, ['--counting-sink', String(opts.delayMs ?? 0)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolvePort, reject) => {
    child.once('message', (m) => resolvePort(Number(m)));
    child.once('exit', (code) => reject(new Error(`the counting sink exited (${code}) before it listened`)));
  });
  /** Exports received so far (asked of the sink's process). */
  const counts = () =>
    new Promise<{ requests: number; bytes: number }>((resolveCounts) => {
      child.once('message', (m) => resolveCounts(m as { requests: number; bytes: number }));
      child.send('counts');
    });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, counts, close: () => child.kill() };
}

if (process.argv[2] === '--counting-sink') {
  const delayMs = Number(process.argv[3]);
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      requests++;
      const answer = () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      if (delayMs) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
  // Gone with the bench: its IPC channel closes when the parent exits, however it exits.
  process.on('disconnect', () => process.exit(0));
  process.on('message', () => process.send!({ requests, bytes }));
}

/** Peak resident set (VmHWM) and CPU seconds of a process, from /proc. */
export function processStats(pid: number): { peakRssMb: number; rssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime
  return { peakRssMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024, cpuSeconds: ticks / 100 };
}
