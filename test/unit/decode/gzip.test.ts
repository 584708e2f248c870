import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipRecord } from '../../../src/decode/gzip.ts';

const MiB = 1024 * 1024;
/** Text that compresses about as CloudWatch Logs text does. */
const text = (n: number) => {
  let out = '';
  for (let i = 0; out.length < n; i++) out += `line ${i} ${randomBytes(8).toString('hex')} ok\n`;
  return Buffer.from(out.slice(0, n));
};
/** The same gzip member with its trailer's ISIZE (the uncompressed size it announces) replaced. */
const withIsize = (gz: Buffer, isize: number) => {
  const copy = Buffer.from(gz);
  copy.writeUInt32LE(isize >>> 0, copy.length - 4);
  return copy;
};

describe('gunzipRecord', () => {
  it('inflates records from a few bytes to several MiB exactly', async () => {
    for (const size of [0, 1, 100, 16 * 1024, 100_000, 3 * MiB + 7]) {
      const plain = text(size);
      expect((await gunzipRecord(gzipSync(plain), 32 * MiB)).equals(plain)).toBe(true);
    }
  });

  it('inflates a record whatever size its trailer announces, since that size is only a hint', async () => {
    const plain = text(300_000);
    const gz = gzipSync(plain);
    // Zero, too small, too large, and the 4 GiB an attacker may write: the record inflates as far as its
    // trailer, where zlib's own length check refuses the wrong ISIZE (a bad record, not a failed allocation).
    for (const isize of [0, 10, 299_999, 300_001, 0xffffffff]) {
      await expect(gunzipRecord(withIsize(gz, isize), 32 * MiB)).rejects.toThrow(/not valid gzip: incorrect length check/);
    }
    expect((await gunzipRecord(withIsize(gz, 300_000), 32 * MiB)).equals(plain)).toBe(true);
  });

  it('stops at the record cap, whatever the trailer says', async () => {
    const gz = gzipSync(Buffer.alloc(4 * MiB));
    for (const isize of [4 * MiB, 16]) {
      await expect(gunzipRecord(withIsize(gz, isize), MiB)).rejects.toThrow(/inflates to more than 1048576 bytes/);
    }
  });
});
