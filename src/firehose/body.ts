import { createHash, webcrypto } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FiretapError } from '../errors.ts';
import type { BufferPool } from '../pipeline/buffer-pool.ts';

const SLICE = 4 * 1024 * 1024;

const tooLarge = (limit: number) =>
  new FiretapError('FIRETAP_BODY_TOO_LARGE', `request body is larger than ${limit} bytes after decompression (FIRETAP_MAX_BODY_BYTES)`);

/**
 * Reads a request body (already decompressed by @fastify/compress when it had a Content-Encoding) into
 * one buffer, copying each chunk as it arrives: sized from Content-Length when the body is not encoded,
 * grown by doubling otherwise. Unlike collecting chunks and concatenating them at the end, no single
 * step copies the whole body at once, so a 90 MiB request does not stall the event loop. The limit
 * applies to the decompressed bytes and is enforced as they arrive. The buffer comes from `pool` (in shared
 * memory when `shared`: for a decode thread), and goes back to it when the body is refused; the caller
 * releases the body once done with it.
 */
export async function collectBody(payload: Readable, declaredLength: number | undefined, encoded: boolean, limit: number, pool: BufferPool, shared = false): Promise<Buffer> {
  if (!encoded && declaredLength !== undefined && declaredLength > limit) throw tooLarge(limit);
  let buf = pool.acquire(Math.min(limit, !encoded && declaredLength !== undefined ? declaredLength : 256 * 1024), shared);
  let length = 0;
  try {
    for await (const chunk of payload as AsyncIterable<Buffer>) {
      if (length + chunk.length > limit) {
        payload.destroy();
        throw tooLarge(limit);
      }
      if (length + chunk.length > buf.length) {
        const grown = pool.acquire(Math.min(limit, Math.max(buf.length * 2, length + chunk.length)), shared);
        buf.copy(grown, 0, 0, length);
        pool.release(buf);
        buf = grown;
      }
      chunk.copy(buf, length);
      length += chunk.length;
    }
    if (!encoded && declaredLength !== undefined && length !== declaredLength) {
      throw new FiretapError('FIRETAP_BAD_REQUEST', `request body is ${length} bytes but Content-Length said ${declaredLength}`);
    }
  } catch (err) {
    pool.release(buf);
    throw err;
  }
  return buf.subarray(0, length);
}

/**
 * What identifies a body for the delivery ledger: the SHA-256 of each 4 MiB slice, and for a body of
 * several slices the SHA-256 of those digests. Computed by a decode thread for the metrics requests it
 * decodes (bodyDigestSync, on the shared body), and here for the others in libuv's thread pool (WebCrypto's
 * digest, on a copy of each slice: ~0.45 ms of main-thread time per MiB for the copy and the job, against
 * ~0.6 ms to hash it here; a 90 MiB body would hold the event loop for ~60 ms).
 */
export async function bodyDigest(body: Buffer): Promise<string> {
  // WebCrypto refuses views of shared memory: they are copied first.
  const own = (b: Uint8Array): Uint8Array<ArrayBuffer> => (b.buffer instanceof SharedArrayBuffer ? new Uint8Array(b) : (b as Uint8Array<ArrayBuffer>));
  if (body.length <= SLICE) return Buffer.from(await webcrypto.subtle.digest('SHA-256', own(body))).toString('base64');
  const hash = createHash('sha256');
  for (let offset = 0; offset < body.length; offset += SLICE) {
    hash.update(new Uint8Array(await webcrypto.subtle.digest('SHA-256', own(body.subarray(offset, offset + SLICE)))));
  }
  return hash.digest('base64');
}

/** bodyDigest, computed on the calling thread (a decode thread's). */
export function bodyDigestSync(body: Uint8Array): string {
  if (body.length <= SLICE) return createHash('sha256').update(body).digest('base64');
  const hash = createHash('sha256');
  for (let offset = 0; offset < body.length; offset += SLICE) hash.update(createHash('sha256').update(body.subarray(offset, offset + SLICE)).digest());
  return hash.digest('base64');
}
