import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { FiretapError } from '../errors.ts';

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

/**
 * Refuses (401) a request whose X-Amz-Firehose-Access-Key is missing or not one of `keys`; with no keys
 * configured every request passes. The Firehose routes, the enrichment lookup and the tap share it.
 */
export function createAccessKeyGuard(keys: readonly string[]): (request: FastifyRequest) => void {
  const check = createAccessKeyCheck(keys);
  return (request) => {
    if (keys.length === 0) return;
    const presented = request.headers['x-amz-firehose-access-key'];
    if (typeof presented !== 'string') throw new FiretapError('FIRETAP_UNAUTHORIZED', 'missing X-Amz-Firehose-Access-Key header');
    if (!check(presented)) throw new FiretapError('FIRETAP_UNAUTHORIZED', 'invalid X-Amz-Firehose-Access-Key');
  };
}
