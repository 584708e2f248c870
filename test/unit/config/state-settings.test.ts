import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { openStateClient } from '../../../src/config/state-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'firetap-state-'));
const problem = (run: () => unknown): string => {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};
const asyncProblem = async (run: () => Promise<unknown>): Promise<string> => {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as Error).message;
};

describe('the state store settings', () => {
  it('keep every part in memory without FIRETAP_STATE_URL, with a 30 s scraper lease', async () => {
    const config = loadConfig({});
    expect(config.state.url).toBeUndefined();
    expect(config.state.leaseTtlMs).toBe(30_000);
    expect(await openStateClient(config.state)).toBeUndefined();
  });

  it('refuse a URL that is not redis:// or rediss://, saying what to write and never echoing its password', () => {
    const message = problem(() => loadConfig({ FIRETAP_STATE_URL: 'http://firetap:s3cret-token@cache.local:6379' }));
    expect(message).toContain('FIRETAP_STATE_URL: expected a redis:// (plain) or rediss:// (TLS) URL');
    expect(message).not.toContain('s3cret-token');
    expect(problem(() => loadConfig({ FIRETAP_STATE_URL: 'cache.local:6379' }))).toContain('with its scheme');
    expect(problem(() => loadConfig({ FIRETAP_STATE_URL: 'redis://cache.local:6379/orders' }))).toContain('database number');
    expect(problem(() => loadConfig({ FIRETAP_STATE_LEASE_TTL_MS: '100' }))).toContain('FIRETAP_STATE_LEASE_TTL_MS');
  });

  it('connect over TLS for rediss://, with the user of the URL and the password or auth token of the secret file', async () => {
    const secret = join(dir, 'token');
    writeFileSync(secret, 'file-token\n');
    const config = loadConfig({
      FIRETAP_STATE_URL: 'rediss://firetap:url-password@my-cache.serverless.euw1.cache.amazonaws.com:6379/2',
      FIRETAP_STATE_PASSWORD_FILE: secret,
    });
    const client = (await openStateClient(config.state))!;
    expect(client.options).toMatchObject({
      host: 'my-cache.serverless.euw1.cache.amazonaws.com',
      port: 6379,
      db: 2,
      username: 'firetap',
      password: 'file-token',
      tls: { servername: 'my-cache.serverless.euw1.cache.amazonaws.com' },
      enableOfflineQueue: false,
    });
    client.disconnect();
    const plain = (await openStateClient(loadConfig({ FIRETAP_STATE_URL: 'redis://:url%40password@127.0.0.1:6380' }).state))!;
    expect(plain.options).toMatchObject({ host: '127.0.0.1', port: 6380, password: 'url@password' });
    expect(plain.options.tls).toBeUndefined();
    plain.disconnect();
  });

  it('name a password file that cannot be read or is empty', async () => {
    const url = 'redis://127.0.0.1:6379';
    expect(await asyncProblem(() => openStateClient(loadConfig({ FIRETAP_STATE_URL: url, FIRETAP_STATE_PASSWORD_FILE: join(dir, 'absent') }).state))).toContain(
      `FIRETAP_STATE_PASSWORD_FILE: cannot read ${join(dir, 'absent')} (ENOENT)`,
    );
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(await asyncProblem(() => openStateClient(loadConfig({ FIRETAP_STATE_URL: url, FIRETAP_STATE_PASSWORD_FILE: empty }).state))).toContain('is empty');
  });

  it('take ElastiCache IAM authentication only with its user and region, and never beside a password file', () => {
    const url = 'rediss://firetap-state-abc123.serverless.euw1.cache.amazonaws.com:6379';
    const iam = loadConfig({
      FIRETAP_STATE_URL: url,
      FIRETAP_STATE_IAM_CACHE_NAME: 'firetap-state',
      FIRETAP_STATE_USERNAME: 'firetap',
      FIRETAP_STATE_IAM_REGION: 'eu-west-1',
    });
    expect(iam.state).toMatchObject({ iamCacheName: 'firetap-state', iamRegion: 'eu-west-1', username: 'firetap' });
    const missing = problem(() => loadConfig({ FIRETAP_STATE_URL: url, FIRETAP_STATE_IAM_CACHE_NAME: 'firetap-state' }));
    expect(missing).toContain('set FIRETAP_STATE_USERNAME');
    expect(missing).toContain('set FIRETAP_STATE_IAM_REGION');
    expect(
      problem(() =>
        loadConfig({
          FIRETAP_STATE_URL: url,
          FIRETAP_STATE_IAM_CACHE_NAME: 'firetap-state',
          FIRETAP_STATE_USERNAME: 'firetap',
          FIRETAP_STATE_IAM_REGION: 'eu-west-1',
          FIRETAP_STATE_PASSWORD_FILE: '/etc/firetap/state/password',
        }),
      ),
    ).toContain('unset FIRETAP_STATE_PASSWORD_FILE or FIRETAP_STATE_IAM_CACHE_NAME');
  });
});
