import { describe, expect, it } from 'vitest';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { BufferPool } from '../../../src/memory/buffer-pool.ts';

const write = (batch: OtlpBatch, byte: number, n: number) => {
  for (let i = 0; i < n; i++) batch.writer.uint32(byte);
  batch.items += n;
};

describe('OtlpBatch', () => {
  it('gives each take a payload of its own: later writes to the batch never change an earlier payload', () => {
    const batch = new OtlpBatch(64);
    write(batch, 1, 10);
    const first = batch.take();
    write(batch, 2, 10);
    const last = batch.take(true);
    write(batch, 3, 10); // a batch used after its last take still works, on a buffer of its own
    const after = batch.take();
    expect(Buffer.from(first.payload)).toEqual(Buffer.alloc(10, 1));
    expect(Buffer.from(last.payload)).toEqual(Buffer.alloc(10, 2));
    expect(Buffer.from(after.payload)).toEqual(Buffer.alloc(10, 3));
    expect([first.items, last.items, after.items]).toEqual([10, 10, 10]);
  });

  it('writes into the buffer it was sized with, and grows past it when it must', () => {
    const batch = new OtlpBatch(1000);
    const sized = batch.writer.buf;
    write(batch, 7, 990); // protobufjs reserves a varint's 5 bytes before writing one
    expect(batch.writer.buf).toBe(sized);
    write(batch, 7, 20);
    expect(batch.writer.buf.length).toBeGreaterThan(1000);
    expect(Buffer.from(batch.take(true).payload)).toEqual(Buffer.alloc(1010, 7));
  });

  it('rolls back to a mark, leaving what came before', () => {
    const batch = new OtlpBatch();
    write(batch, 1, 3);
    const mark = batch.mark();
    write(batch, 2, 3);
    batch.rollback(mark);
    expect(Buffer.from(batch.take().payload)).toEqual(Buffer.alloc(3, 1));
  });

  it('with a pool, hands its buffer over on every take and writes the next batch into another one', () => {
    const pool = new BufferPool(64 * 1024 * 1024);
    const batch = new OtlpBatch(128 * 1024, pool);
    write(batch, 1, 10);
    // Packed doubles (explicit bucket bounds): protobufjs caches a DataView over the buffer for these.
    (batch.writer as unknown as { doubles(v: number[]): void }).doubles(Array.from({ length: 20 }, (_, i) => i + 0.5));
    const first = batch.take();
    const expected = Buffer.from(first.payload);
    write(batch, 2, 10);
    (batch.writer as unknown as { doubles(v: number[]): void }).doubles(Array.from({ length: 20 }, (_, i) => -i));
    const second = batch.take();
    expect(second.payload.buffer === first.payload.buffer).toBe(false);
    expect(Buffer.from(first.payload)).toEqual(expected);
    expect(second.payload[0]).toBe(2);

    pool.release(first.payload); // exported: a later batch may reuse it
    write(batch, 3, 10);
    batch.take(); // the batch goes on in the buffer just released
    write(batch, 4, 10);
    const fourth = batch.take(true);
    expect(fourth.payload.buffer === first.payload.buffer).toBe(true);
    expect(Buffer.from(fourth.payload)).toEqual(Buffer.alloc(10, 4));
    expect(Buffer.from(second.payload.subarray(0, 10))).toEqual(Buffer.alloc(10, 2));
  });

  it('gives its buffer back to the pool when disposed', () => {
    const pool = new BufferPool(64 * 1024 * 1024);
    const batch = new OtlpBatch(128 * 1024, pool);
    const buffer = batch.writer.buf.buffer;
    batch.dispose();
    expect(pool.acquire(128 * 1024).buffer === buffer).toBe(true);
  });
});
