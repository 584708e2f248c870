import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { collectBody } from '../../../src/firehose/body.ts';
import { bodyDigest, bodyDigestSync } from '../../../src/pipeline/body-digest.ts';
import { BufferPool } from '../../../src/memory/buffer-pool.ts';
import { MemoryBudget, MemoryShare } from '../../../src/memory/memory-budget.ts';

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

describe('collectBody', () => {
  const chunksOf = (body: Buffer, sizes: number[]) => {
    const chunks: Buffer[] = [];
    for (let at = 0, i = 0; at < body.length; i++) {
      const n = sizes[i % sizes.length]!;
      chunks.push(Buffer.from(body.subarray(at, at + n)));
      at += n;
    }
    return chunks;
  };
  const body = Buffer.from(Array.from({ length: 1_000_003 }, (_, i) => (i * 131 + 7) & 0xff));

  it('gathers chunks of any size into the exact body, in shared memory when a decode thread is to read it', async () => {
    for (const shared of [false, true]) {
      // Declared (one buffer) or not (grown by doubling); chunks over 64 KiB, of one byte, of odd sizes.
      for (const declared of [body.length, undefined]) {
        const pool = new BufferPool(64 * 1024 * 1024);
        const got = await collectBody(
          Readable.from(chunksOf(body, [65_536, 1, 4_093, 200_001, 65_535, 7])),
          declared,
          declared === undefined,
          16 * 1024 * 1024,
          pool,
          shared,
        );
        expect(got.equals(body)).toBe(true);
        expect(got.buffer instanceof SharedArrayBuffer).toBe(shared);
      }
    }
  });

  it('refuses a body over the limit, or shorter than its Content-Length, and keeps nothing of it', async () => {
    const pool = new BufferPool(64 * 1024 * 1024);
    // Every buffer the pool hands out: the one a body starts in, those it grows into, the one sized from Content-Length.
    const taken = new Set<ArrayBufferLike>();
    const acquire = pool.acquire.bind(pool);
    pool.acquire = (size, shared) => {
      const buf = acquire(size, shared);
      taken.add(buf.buffer);
      return buf;
    };
    const budget = new MemoryBudget(64 * 1024 * 1024);
    const memory = new MemoryShare(budget);
    await expect(collectBody(Readable.from(chunksOf(body, [65_536])), undefined, true, 500_000, pool, true, memory)).rejects.toThrow(
      /larger than 500000 bytes/,
    );
    expect(budget.inUse).toBe(0);
    await expect(collectBody(Readable.from(chunksOf(body, [65_536])), body.length + 1, false, 16 * 1024 * 1024, pool, true, memory)).rejects.toThrow(
      /but Content-Length said/,
    );
    expect(budget.inUse).toBe(0);
    expect(pool.pooledBytes).toBeGreaterThan(0); // the buffers went back to the pool, none is held
    expect(taken.size).toBeGreaterThan(1);
    expect(pool.pooledBytes).toBe([...taken].reduce((n, b) => n + b.byteLength, 0));
  });
});
