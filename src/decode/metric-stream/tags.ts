import { lookupKeyHash } from '../../enrich/lookup-cache.ts';
import { lookupMetric } from '../../enrich/snapshot.ts';
import type { Reader } from '../../otlp/wire-format.ts';
import { checkKeyValue } from '../../otlp/wire-key-value.ts';
import { utf8, type WireCursor } from '../../otlp/wire-read.ts';
import type { PointContext } from './context.ts';
import { readDimensions } from './dimensions.ts';

/**
 * The lookup of a data point's resource: the Namespace's UTF-8 bytes and the encoded Dimensions list identify
 * it, each distinct pair looked up once per snapshot and found again by a numeric hash checked byte for byte
 * (no string per data point). Returns the lookup cache's entry. Dimensions not checked yet are checked before
 * a lookup that found nothing is added; a lookup found again was added only after its bytes were checked.
 */
export function lookup(
  r: Reader,
  point: PointContext,
  nsStart: number,
  nsEnd: number,
  dimsStart: number,
  dimsEnd: number,
  dimsUnchecked: number,
  c: WireCursor,
): number {
  const buf = r.buf;
  const dStart = Math.max(dimsStart, 0);
  const dEnd = dimsStart >= 0 ? dimsEnd : 0;
  const hash = lookupKeyHash(buf, nsStart, nsEnd, dStart, dEnd);
  const cache = point.cache!;
  const e = cache.find(hash, buf, nsStart, nsEnd, dStart, dEnd);
  if (e >= 0) return e;
  if (dimsUnchecked >= 0) checkKeyValue(r, dimsUnchecked, dimsEnd, c);
  const namespace = utf8(r, nsStart, nsEnd);
  const resource = lookupMetric(point.scope!, namespace, dimsStart >= 0 ? readDimensions(r, dimsStart, dimsEnd, c) : new Map());
  return cache.add(hash, buf, nsStart, nsEnd, dStart, dEnd, resource, cache.tally(namespace, resource !== undefined));
}
