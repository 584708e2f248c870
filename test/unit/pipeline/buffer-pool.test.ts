import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../src/pipeline/buffer-pool.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('BufferPool', () => {
  it('hands a released buffer to the next request of a size it fits, not to one twice its size', () => {
    const pool = new BufferPool(16 * MiB);
    const body = pool.acquire(MiB + 5);
    expect(body.length).toBeGreaterThanOrEqual(MiB + 5);
    pool.release(body.subarray(0, 10)); // a view of it is enough to give it back
    expect(pool.acquire(4 * MiB).buffer === body.buffer).toBe(false); // too small
    expect(pool.acquire(256 * KiB).buffer === body.buffer).toBe(false); // more than twice too large
    expect(pool.acquire(MiB).buffer === body.buffer).toBe(true);
    expect(pool.pooledBytes).toBe(0);
  });

  it('never hands out one buffer to two holders, however often it is released', () => {
    const pool = new BufferPool(16 * MiB);
    const a = pool.acquire(MiB);
    pool.release(a);
    pool.release(a);
    const first = pool.acquire(MiB);
    const second = pool.acquire(MiB);
    expect(first.buffer === a.buffer).toBe(true);
    expect(second.buffer === a.buffer).toBe(false);
  });

  it('takes back only buffers it made, and leaves small ones to the garbage collector', () => {
    const pool = new BufferPool(16 * MiB);
    pool.release(Buffer.alloc(MiB));
    pool.release(Buffer.from('a slice of node\'s shared 8 KiB pool'));
    const small = pool.acquire(100);
    expect(small.length).toBe(100);
    pool.release(small);
    expect(pool.pooledBytes).toBe(0);
  });

  it('keeps at most its limit, dropping the largest buffers first', () => {
    const pool = new BufferPool(3 * MiB);
    const buffers = [pool.acquire(MiB), pool.acquire(MiB), pool.acquire(2 * MiB), pool.acquire(MiB)];
    for (const b of buffers) pool.release(b);
    expect(pool.pooledBytes).toBe(3 * MiB);
    expect(pool.acquire(2 * MiB).buffer === buffers[2]!.buffer).toBe(false);
  });
});
