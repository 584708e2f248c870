import { ConfigError } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { createDeadLetter, type DeadLetter } from './dead-letter.ts';

/** The dead-letter store the configuration names, if any: a directory or an S3 prefix, never both. */
export async function openDeadLetter(
  config: Pick<Config, 'deadLetterDir' | 'deadLetterUrl'>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<DeadLetter | undefined> {
  if (config.deadLetterDir && config.deadLetterUrl) {
    throw new ConfigError(
      'FIRETAP_DEAD_LETTER_DIR and FIRETAP_DEAD_LETTER_URL are both set: set only one (the URL keeps dead letters across restarts, the directory only as long as its volume)',
    );
  }
  // The AWS SDK is loaded only when dead letters go to S3.
  if (config.deadLetterUrl) return (await import('./dead-letter-s3.ts')).createS3DeadLetter(config.deadLetterUrl, env);
  return config.deadLetterDir ? createDeadLetter(config.deadLetterDir) : undefined;
}
