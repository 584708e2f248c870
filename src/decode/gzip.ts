import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { RecordError } from './record-error.ts';

/** RFC 1952 §2.3.1: every gzip member starts with ID1 = 0x1f, ID2 = 0x8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const gunzipAsync = promisify(gunzip);

/**
 * Gunzips a record, refusing to produce more than `maxBytes`: zlib stops inflating at the cap, so a
 * gzip bomb costs at most `maxBytes` of memory before it is rejected. Asynchronous, in libuv's thread
 * pool: it keeps the event loop free, and Node's synchronous zlib leaks about 9 KB on every corrupt
 * input (found by fuzzing: a stream of bad records would grow memory without bound).
 */
export async function gunzipRecord(bytes: Uint8Array, maxBytes: number): Promise<Buffer> {
  try {
    // 128 KiB output chunks: the default 16 KiB costs a main-thread callback per 16 KiB, while 1 MiB chunks
    // cost a 1 MiB allocation per record (measured: 128 KiB is twice as fast as either for 100 KB records).
    return await gunzipAsync(bytes, { maxOutputLength: maxBytes, chunkSize: Math.min(maxBytes, 128 * 1024) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new RecordError('too_large', `record inflates to more than ${maxBytes} bytes (FIRETAP_MAX_RECORD_BYTES)`);
    }
    throw new RecordError('gzip', `record is not valid gzip: ${e.message}`);
  }
}
