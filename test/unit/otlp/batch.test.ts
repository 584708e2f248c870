import { describe, expect, it } from 'vitest';
import { OtlpBatch } from '../../../src/otlp/batch.ts';

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
});
