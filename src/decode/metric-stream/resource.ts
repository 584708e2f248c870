import { WIRE_LEN, WireError, tag, type Reader, type Writer } from '../../otlp/wire-format.ts';
import type { EncodedAttribute } from '../../otlp/wire-encode.ts';
import { scanKeyValue, scannedString } from '../../otlp/wire-key-value.ts';
import { bytesEqual, readLenBounds, skipField, type WireCursor } from '../../otlp/wire-read.ts';
import { copyFieldSince } from '../../otlp/wire-write.ts';

const LEN1 = tag(1, WIRE_LEN);
const ACCOUNT = Buffer.from('cloud.account.id');
const REGION = Buffer.from('cloud.region');

/**
 * Resource { attributes = 1; dropped_attributes_count = 2 }: copied, then extra attributes it lacks.
 * Returns the account and region CloudWatch put on it (the key of the tag cache).
 */
export function rewriteResource(
  r: Reader,
  end: number,
  w: Writer,
  extra: readonly EncodedAttribute[],
  c: WireCursor,
): { account: string | undefined; region: string | undefined; keys: Array<[number, number]> } {
  const keys: Array<[number, number]> = [];
  let account: string | undefined;
  let region: string | undefined;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const t = r.uint32();
    if (t === LEN1) {
      const stop = readLenBounds(r, end);
      scanKeyValue(r, r.pos, stop, c);
      const key: [number, number] = [c.keyStart, c.keyEnd];
      if (key[0] >= 0) {
        keys.push(key);
        if (bytesEqual(r.buf, key[0], key[1], ACCOUNT)) account = scannedString(r, c);
        else if (bytesEqual(r.buf, key[0], key[1], REGION)) region = scannedString(r, c);
      }
      r.pos = stop;
    } else {
      if (t >>> 3 === 1) throw new WireError(`Resource.attributes has wire type ${t & 7} at byte ${fieldStart}`);
      skipField(r, t & 7, end);
    }
    copyFieldSince(r, fieldStart, w);
  }
  for (const attr of extra) {
    if (!keys.some(([s, e]) => bytesEqual(r.buf, s, e, attr.keyBytes))) w.uint32(LEN1).bytes(attr.encoded);
  }
  return { account, region, keys };
}
