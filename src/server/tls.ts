import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';

/** Reads the configured certificate and key, failing at start with the file that could not be read. */
export function httpsOptions(config: Config): { cert: Buffer; key: Buffer } | undefined {
  if (!config.tls) return undefined;
  const read = (path: string, what: string, env: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`${env}: cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
    }
  };
  return { cert: read(config.tls.certFile, 'certificate', 'FIRETAP_TLS_CERT_FILE'), key: read(config.tls.keyFile, 'key', 'FIRETAP_TLS_KEY_FILE') };
}
