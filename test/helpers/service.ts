import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface Service {
  readonly child: ChildProcessWithoutNullStreams;
  readonly base: string;
  /** Resolves with the exit code when the process ends. */
  readonly exited: Promise<number | null>;
  output(): string;
}

/**
 * Starts the real service on a free loopback port — `node src/main.ts`, or the node arguments given (the
 * image's command, for the bench) — and resolves once `ready` shows in its log.
 */
export async function startService(
  env: Record<string, string>,
  ready = /firetap ready/,
  nodeArgs: readonly string[] = [resolve(import.meta.dirname, '../../src/main.ts')],
): Promise<Service> {
  return untilReady(spawn(process.execPath, nodeArgs, { env: serviceEnv(env), stdio: ['pipe', 'pipe', 'pipe'] }), ready);
}

/** The environment a test's service runs with: loopback, a free port, info logs, and the test's settings. */
export const serviceEnv = (env: Record<string, string>): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOST: '127.0.0.1',
  PORT: '0',
  FIRETAP_LOG_LEVEL: 'info',
  ...env,
});

/** Collects a started service's output and resolves once `ready` shows in it (kills it if it never does). */
export async function untilReady(child: ChildProcessWithoutNullStreams, ready = /firetap ready/): Promise<Service> {
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

const dockerfile = (): string => readFileSync(resolve(import.meta.dirname, '../../Dockerfile'), 'utf8');

/** The flags the Dockerfile's CMD passes to node (`CMD ["node", <flags>…, "dist/main.js"]`). */
export function imageNodeFlags(): string[] {
  const cmd = /^CMD (\[.*\])\s*$/m.exec(dockerfile());
  if (!cmd) throw new Error('the Dockerfile has no CMD in exec form');
  return (JSON.parse(cmd[1]!) as string[]).filter((arg) => arg.startsWith('--'));
}

/** The environment the Dockerfile's last stage sets (`ENV KEY=value …` lines), which the service runs with. */
export function imageEnv(): Record<string, string> {
  const text = dockerfile();
  const lastStage = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of lastStage.matchAll(/^ENV (.+)$/gm)) {
    for (const pair of line[1]!.trim().split(/\s+/)) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`the Dockerfile's ENV ${line[1]} is not in KEY=value form`);
      env[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  return env;
}
