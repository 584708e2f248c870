import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/**
 * Checks X-Amz-Firehose-Access-Key against the configured keys in constant time: both sides are
 * hashed to the same length first (so neither the key nor its length leaks through timing) and every
 * configured key is compared, whichever matches.
 */
export function createAccessKeyCheck(keys: readonly string[]): (presented: string | undefined) => boolean {
  const digests = keys.map(digest);
  return (presented) => {
    if (presented === undefined) return false;
    const given = digest(presented);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    return ok;
  };
}
