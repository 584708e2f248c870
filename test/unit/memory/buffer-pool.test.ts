import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../src/memory/buffer-pool.ts';

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
    pool.release(Buffer.from("a slice of node's shared 8 KiB pool"));
    const small = pool.acquire(100);
    expect(small.length).toBe(100);
    pool.release(small);
    expect(pool.pooledBytes).toBe(0);
  });

  it('keeps at most its limit, dropping the buffers released longest ago, so that it follows a change of sizes', () => {
    const pool = new BufferPool(4 * MiB);
    const old = [pool.acquire(MiB), pool.acquire(MiB), pool.acquire(MiB)];
    for (const b of old) pool.release(b);
    // The traffic changes: 2 MiB buffers now. Releasing them drops the 1 MiB ones, oldest first.
    const now = [pool.acquire(2 * MiB), pool.acquire(2 * MiB)];
    for (const b of now) pool.release(b);
    expect(pool.pooledBytes).toBe(4 * MiB);
    const again = [pool.acquire(2 * MiB), pool.acquire(2 * MiB)];
    expect(new Set(again.map((b) => b.buffer))).toEqual(new Set(now.map((b) => b.buffer)));
    expect(pool.pooledBytes).toBe(0);
  });

  it('hands shared memory only to whoever asks for it, and ordinary memory to the others', () => {
    const pool = new BufferPool(16 * MiB);
    const shared = pool.acquire(MiB, true);
    const plain = pool.acquire(MiB);
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(plain.buffer).toBeInstanceOf(ArrayBuffer);
    expect(pool.acquire(100, true).buffer).toBeInstanceOf(SharedArrayBuffer);
    pool.release(shared);
    pool.release(plain);
    // A decode thread must get shared memory back, and a log batch must not pay for zero-filled pages.
    expect(pool.acquire(MiB, true).buffer === shared.buffer).toBe(true);
    expect(pool.acquire(MiB).buffer === plain.buffer).toBe(true);
  });
});
