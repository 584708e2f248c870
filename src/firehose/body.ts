import type { Readable } from 'node:stream';
import { FiretapError } from '../errors.ts';
import type { BufferPool } from '../memory/buffer-pool.ts';
import type { MemoryShare } from '../memory/memory-budget.ts';

/** What of a body sized from its Content-Length the memory budget covers at first. */
const MIN_COVERED = 1024 * 1024;

const tooLarge = (limit: number) =>
  new FiretapError('FIRETAP_BODY_TOO_LARGE', `request body is larger than ${limit} bytes after decompression (FIRETAP_MAX_BODY_BYTES)`);

/**
 * Reads a request body (already decompressed by @fastify/compress when it had a Content-Encoding) into
 * one buffer, copying each chunk as it arrives: sized from Content-Length when the body is not encoded,
 * grown by doubling otherwise. Unlike collecting chunks and concatenating them at the end, no single
 * step copies the whole body at once, so a 90 MiB request does not stall the event loop. The limit
 * applies to the decompressed bytes and is enforced as they arrive. The buffer comes from `pool` (in shared
 * memory when `shared`: for a decode thread), and goes back to it when the body is refused; the caller
 * releases the body once done with it. Each buffer is first taken from `memory` (the request's share of the
 * memory budget), which is given back when the body is refused and otherwise held until the request ends.
 */
export async function collectBody(
  payload: Readable,
  declaredLength: number | undefined,
  encoded: boolean,
  limit: number,
  pool: BufferPool,
  shared = false,
  memory?: MemoryShare,
): Promise<Buffer> {
  if (!encoded && declaredLength !== undefined && declaredLength > limit) throw tooLarge(limit);
  const presized = !encoded && declaredLength !== undefined;
  const initial = Math.min(limit, presized ? declaredLength : 256 * 1024);
  // What of the buffer the memory budget covers. One sized from Content-Length costs memory only as it is written
  // (pages not yet written are not resident, unless zero-filled shared memory): taken in doubling stretches ahead
  // of the bytes, so that a slow upload announcing 96 MiB does not hold 96 MiB of the budget from its first byte.
  let covered = presized && !shared ? Math.min(initial, MIN_COVERED) : initial;
  if (memory && !memory.tryGrow(covered)) await memory.grow(covered);
  let buf = pool.acquire(initial, shared);
  let length = 0;
  try {
    for await (const chunk of payload as AsyncIterable<Buffer>) {
      if (length + chunk.length > limit) {
        payload.destroy();
        throw tooLarge(limit);
      }
      if (length + chunk.length > buf.length) {
        // The larger buffer is taken from the memory budget before it exists. The smaller one stays counted: a
        // large one is garbage until the next collection, which during a storm of gzip bombs may be a while.
        const size = Math.min(limit, Math.max(buf.length * 2, length + chunk.length));
        if (memory && !memory.tryGrow(size)) await memory.grow(size);
        const grown = pool.acquire(size, shared);
        buf.copy(grown, 0, 0, length);
        pool.release(buf);
        buf = grown;
        covered = size;
      } else if (length + chunk.length > covered) {
        const next = Math.min(buf.length, Math.max(2 * covered, length + chunk.length));
        if (memory && !memory.tryGrow(next - covered)) await memory.grow(next - covered);
        covered = next;
      }
      if (shared) copyIntoShared(chunk, buf, length);
      else chunk.copy(buf, length);
      length += chunk.length;
    }
    if (!encoded && declaredLength !== undefined && length !== declaredLength) {
      throw new FiretapError('FIRETAP_BAD_REQUEST', `request body is ${length} bytes but Content-Length said ${declaredLength}`);
    }
  } catch (err) {
    pool.release(buf);
    memory?.release();
    throw err;
  }
  return buf.subarray(0, length);
}

/** Where chunks bound for shared memory are first lined up (one copy at a time: the event loop's own). */
const SCRATCH_BYTES = 64 * 1024;
const scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES + 8);

/**
 * Copies `chunk` into shared memory at `at`. V8 copies into a SharedArrayBuffer with relaxed atomic stores,
 * a word at a time only when source and target lie alike in their words, byte by byte otherwise — which
 * chunks of the sizes a socket delivers mostly do not: a 1 MiB body took ~0.21 ms of the main thread that
 * way. Each 64 KiB is first copied (memcpy) into a scratch buffer at the target's offset within a word, then
 * from there word by word: ~0.06 ms, and no buffer per request.
 */
function copyIntoShared(chunk: Buffer, target: Buffer, at: number): void {
  for (let offset = 0; offset < chunk.length; offset += SCRATCH_BYTES) {
    const part = chunk.subarray(offset, offset + SCRATCH_BYTES);
    const shift = (target.byteOffset + at + offset - scratch.byteOffset) & 7;
    part.copy(scratch, shift);
    target.set(scratch.subarray(shift, shift + part.length), at + offset);
  }
}
