import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The test servers firetap's tests run for real (a Valkey/Redis store, a Prometheus remote-write receiver), by the
 * command each test starts and the Debian package that ships it. Installed once before the run when absent, so
 * `npm test` passes on a fresh machine; as root only (CI and these machines), otherwise the message says what to do.
 */
export const TEST_SERVERS: readonly { readonly command: string; readonly debianPackage: string }[] = [
  { command: 'redis-server', debianPackage: 'redis-server' },
  { command: 'prometheus', debianPackage: 'prometheus' },
];

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

export default function setup(): void {
  const missing = TEST_SERVERS.filter((s) => !onPath(s.command)).map((s) => s.debianPackage);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`the tests need ${missing.join(', ')} (Debian packages): install them with apt-get install ${missing.join(' ')}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write(`installing the test servers' Debian packages: ${missing.join(', ')}\n`);
  // Bounded: a mirror that stops answering or a held dpkg lock fails the run with apt's message instead of hanging it.
  const apt = (args: string[]) =>
    execFileSync('apt-get', [...APT_OPTIONS, ...args], { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: APT_TIMEOUT_MS, killSignal: 'SIGKILL' });
  apt(['update']);
  apt(['install', '-y', '--no-install-recommends', ...missing]);
}

const APT_TIMEOUT_MS = 10 * 60_000;
const APT_OPTIONS = [
  '-o',
  'Acquire::http::Timeout=30',
  '-o',
  'Acquire::Retries=3',
  '-o',
  'DPkg::Lock::Timeout=120',
  '-o',
  'Dpkg::Options::=--force-confdef',
  '-o',
  'Dpkg::Options::=--force-confold',
];
