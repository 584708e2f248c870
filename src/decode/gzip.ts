import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
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
export async function gunzipRecord(bytes: Uint8Array, maxBytes: number): Promise<Buffer> {
  try {
    return await gunzipAsync(bytes, { maxOutputLength: maxBytes, chunkSize: outputChunkSize(bytes, maxBytes) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new RecordError('too_large', `record inflates to more than ${maxBytes} bytes (FIRETAP_MAX_RECORD_BYTES)`);
    }
    throw new RecordError('gzip', `record is not valid gzip: ${e.message}`);
  }
}
