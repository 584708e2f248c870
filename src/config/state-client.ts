import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { StateConfig } from '../state/settings.ts';
import { ConfigError } from './load.ts';

/**
 * The shared store's client when FIRETAP_STATE_URL is set; the password file is read once, here, at start. The
 * client library (~25 MB of memory once loaded) is loaded only then.
 */
export async function openStateClient(config: StateConfig): Promise<Redis | undefined> {
  if (!config.url) return undefined;
  let password: string | undefined;
  if (config.passwordFile) {
    try {
      password = readFileSync(config.passwordFile, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        `FIRETAP_STATE_PASSWORD_FILE: cannot read ${config.passwordFile} (${(err as NodeJS.ErrnoException).code ?? 'error'}); mount the secret there or unset it`,
      );
    }
    if (password === '')
      throw new ConfigError(`FIRETAP_STATE_PASSWORD_FILE: ${config.passwordFile} is empty; it should hold the store's password or auth token`);
  }
  const { connectState } = await import('../state/connect.ts');
  return connectState({ ...config, url: config.url }, { password });
}
