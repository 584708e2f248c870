import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodyDigest, bodyDigestSync } from '../../../src/firehose/body.ts';

const SLICE = 4 * 1024 * 1024;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('base64');

describe('bodyDigest', () => {
  it('is the SHA-256 of a body of one slice', async () => {
    for (const body of [Buffer.alloc(0), Buffer.from('{"requestId":"a","records":[]}'), Buffer.alloc(SLICE, 7)]) {
      expect(await bodyDigest(body)).toBe(sha256(body));
    }
  });

  it('hashes the digests of 4 MiB slices for a larger body, so every slice counts', async () => {
    const body = Buffer.alloc(2 * SLICE + 5, 1);
    const slices = [body.subarray(0, SLICE), body.subarray(SLICE, 2 * SLICE), body.subarray(2 * SLICE)];
    const expected = createHash('sha256');
    for (const slice of slices) expected.update(createHash('sha256').update(slice).digest());
    expect(await bodyDigest(body)).toBe(expected.digest('base64'));

    for (const at of [0, SLICE, body.length - 1]) {
      const changed = Buffer.from(body);
      changed[at] = changed[at]! ^ 1;
      expect(await bodyDigest(changed)).not.toBe(await bodyDigest(body));
    }
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
});
