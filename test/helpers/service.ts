import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

export interface Service {
  readonly child: ChildProcessWithoutNullStreams;
  readonly base: string;
  /** Resolves with the exit code when the process ends. */
  readonly exited: Promise<number | null>;
  output(): string;
}

/**
 * Starts the real service on a free loopback port — `node src/main.ts`, or the compiled entry the image runs
 * when `entry` names one — and resolves once `ready` shows in its log.
 */
export async function startService(env: Record<string, string>, ready = /firetap ready/, entry = resolve(import.meta.dirname, '../../src/main.ts')): Promise<Service> {
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', FIRETAP_LOG_LEVEL: 'info', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-200_000)));
  child.stderr.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-200_000)));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let base: string | undefined;
  for (let i = 0; i < 400; i++) {
    base ??= /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    if (base && ready.test(output)) return { child, base, exited, output: () => output };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`firetap did not start:\n${output}`);
}
