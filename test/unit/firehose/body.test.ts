import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bodyDigest, bodyDigestSync } from '../../../src/firehose/body.ts';

const SLICE = 4 * 1024 * 1024;

describe('bodyDigest', () => {
  it('is the length and CRC-32 of the whole body, however many 4 MiB slices it is read in', async () => {
    for (const body of [Buffer.alloc(0), Buffer.from('{"requestId":"a","records":[]}'), Buffer.alloc(SLICE, 7), Buffer.alloc(2 * SLICE + 5, 1)]) {
      expect(await bodyDigest(body)).toBe(`${body.length.toString(36)}:${crc32(body).toString(16).padStart(8, '0')}`);
    }
  });

  it('tells apart bodies that differ in one bit anywhere, or only in length', async () => {
    const body = Buffer.alloc(2 * SLICE + 5, 1);
    const digest = await bodyDigest(body);
    for (const at of [0, SLICE - 1, SLICE, body.length - 1]) {
      const changed = Buffer.from(body);
      changed[at] = changed[at]! ^ 1;
      expect(await bodyDigest(changed)).not.toBe(digest);
    }
    // Zero bytes appended leave a CRC-32 started at 0 as it was: the length tells these apart.
    expect(await bodyDigest(Buffer.concat([Buffer.alloc(100), Buffer.alloc(1)]))).not.toBe(await bodyDigest(Buffer.alloc(100)));
  });

  it('is the same whether a decode thread computes it (bodyDigestSync) or the main thread, so a retry is recognised either way', async () => {
    for (const size of [0, 1000, SLICE, SLICE + 1, 2 * SLICE + 5]) {
      const body = Buffer.alloc(size, 9);
      const shared = Buffer.from(new SharedArrayBuffer(size));
      body.copy(shared);
      expect(bodyDigestSync(shared)).toBe(await bodyDigest(body));
      expect(await bodyDigest(shared)).toBe(await bodyDigest(body));
    }
  });

  it('lets the event loop run between the slices of a large body', async () => {
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const body = Buffer.alloc(64 * 1024 * 1024, 3);
    await bodyDigest(body);
    clearInterval(ticking);
    expect(turns).toBeGreaterThan(0);
  });
});
