import { promisify } from 'node:util';
import { createGunzip, gunzip } from 'node:zlib';
import type { MemoryShare } from '../memory/memory-budget.ts';
import { RecordError } from './record-error.ts';

/** RFC 1952 §2.3.1: every gzip member starts with ID1 = 0x1f, ID2 = 0x8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const gunzipAsync = promisify(gunzip);

/** zlib's output comes in chunks of this size at least: each chunk costs a callback on the main thread. */
const MIN_CHUNK = 16 * 1024;

/**
 * The output chunk for a record: the size its gzip trailer announces (ISIZE, RFC 1952 §2.3.1: the input's
 * length modulo 2^32, in the last 4 bytes), plus a little so that zlib ends with room to spare rather than
 * asking for another chunk — one allocation of the right size and one callback for a well-formed record,
 * where a fixed 128 KiB cost a concatenation of several for a large record and wasted most of one for a small
 * one. ISIZE is only a hint: a lie costs at worst chunks of MIN_CHUNK (too small), or (too large) a buffer
 * no larger than deflate's best ratio allows for the record's size, and maxOutputLength still stops the inflation.
 */
function outputChunkSize(bytes: Uint8Array, maxBytes: number): number {
  const isize = bytes.length >= 18 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32LE(bytes.length - 4) : 0;
  return Math.min(maxBytes, MAX_DEFLATE_RATIO * bytes.length, Math.max(MIN_CHUNK, isize + 64));
}

/** Deflate turns at most 1,032 bytes of input into one byte (zlib's technical details, "Maximum Compression Factor"). */
const MAX_DEFLATE_RATIO = 1032;

/**
 * Gunzips a record, refusing to produce more than `maxBytes`: zlib stops inflating at the cap, so a
 * gzip bomb costs at most `maxBytes` of memory before it is rejected. Asynchronous, in libuv's thread
 * pool: it keeps the event loop free, and Node's synchronous zlib leaks about 9 KB on every corrupt
 * input (found by fuzzing: a stream of bad records would grow memory without bound).
 */
export async function gunzipRecord(bytes: Uint8Array, maxBytes: number, memory?: MemoryShare): Promise<Buffer> {
  if (memory) return gunzipWithin(bytes, maxBytes, memory);
  try {
    return await gunzipAsync(bytes, { maxOutputLength: maxBytes, chunkSize: outputChunkSize(bytes, maxBytes) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw tooLarge(maxBytes);
    throw notGzip(e);
  }
}

const tooLarge = (maxBytes: number) => new RecordError('too_large', `record inflates to more than ${maxBytes} bytes (FIRETAP_MAX_RECORD_BYTES)`);
const notGzip = (e: Error) => new RecordError('gzip', `record is not valid gzip: ${e.message}`);

/** A bomb's output is looked at, and taken from the budget, at least every this many bytes. */
const MAX_STREAMED_CHUNK = 8 * 1024 * 1024;

/**
 * gunzipRecord against the request's share of the memory budget: the share is given back first (the
 * previous record of the request is done with), then each of zlib's output buffers is taken from it
 * before zlib allocates it. Without room, zlib is paused (it stops at the next buffer: its stream honours
 * backpressure) until the budget has room, or the record fails the request with FIRETAP_OVERLOADED (503,
 * retried). What the record took stays taken until the request's next record or its end.
 */
async function gunzipWithin(bytes: Uint8Array, maxBytes: number, memory: MemoryShare): Promise<Buffer> {
  memory.release();
  const chunkSize = Math.min(MAX_STREAMED_CHUNK, outputChunkSize(bytes, maxBytes));
  await memory.grow(chunkSize);
  const chunks: Buffer[] = [];
  let length = 0;
  await new Promise<void>((resolve, reject) => {
    const engine = createGunzip({ chunkSize });
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      engine.destroy();
      reject(err);
    };
    engine.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) return fail(tooLarge(maxBytes));
      chunks.push(chunk);
      // zlib writes on into the rest of its buffer, then into a new one of chunkSize.
      const need = length + chunkSize - memory.bytes;
      if (need > 0 && !memory.tryGrow(need)) {
        engine.pause();
        memory.grow(need).then(() => engine.resume(), fail);
      }
    });
    engine.on('end', () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    engine.on('error', (err: Error) => fail(notGzip(err)));
    engine.end(bytes);
  });
  if (chunks.length === 1) return chunks[0]!;
  await memory.grow(length);
  return Buffer.concat(chunks, length);
}
