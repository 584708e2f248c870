/** Buffers smaller than this come from Buffer.allocUnsafe and are never pooled. */
const MIN_POOLED_BYTES = 64 * 1024;
/** Sizes are rounded up to this, so that requests of nearly the same size share buffers. */
const GRANULE = 64 * 1024;

/**
 * Large buffers (request bodies, export batches) kept for reuse once their request is done with them.
 *
 * Without it every request allocates its body and batch buffers afresh, and V8 frees them only when a
 * garbage collection finds their wrappers dead: by then a request has lived through several scavenges,
 * its buffers were promoted, and they wait for a full collection. Under 8 requests in flight of 1 MiB,
 * V8's external memory held 100–130 MB, most of it garbage. A buffer released here goes straight to the
 * next request, its pages already resident.
 *
 * Only buffers this pool allocated are taken back (a WeakSet of their ArrayBuffers), each at most once
 * until it is handed out again; the pool keeps at most `maxBytes`, the buffers released longest ago
 * dropped first. Whoever releases a buffer must hold the last reference to its bytes: release is the end
 * of its use.
 */
const sharedBuffer = (size: number): Buffer => Buffer.from(new SharedArrayBuffer(size));

export class BufferPool {
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private readonly free: ArrayBufferLike[] = [];
  private freeBytes = 0;
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes held for reuse. */
  get pooledBytes(): number {
    return this.freeBytes;
  }

  /**
   * A buffer of at least `size` bytes, its contents undefined: a free one no more than twice that size
   * (the smallest that fits), or a new one of `size` rounded up to 64 KiB. `shared`: in shared memory
   * (a SharedArrayBuffer, zero-filled when new), which a decode thread reads and writes without a copy —
   * only what a thread needs, since zero-filling makes every page of it resident.
   */
  acquire(size: number, shared = false): Buffer {
    if (size < MIN_POOLED_BYTES) return shared ? sharedBuffer(size) : Buffer.allocUnsafe(size);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const candidate = this.free[i]!;
      const length = candidate.byteLength;
      if (length >= size && length <= 2 * size && candidate instanceof SharedArrayBuffer === shared && (best < 0 || length < this.free[best]!.byteLength))
        best = i;
    }
    if (best >= 0) {
      const buffer = this.free[best]!;
      this.free.splice(best, 1);
      this.freeBytes -= buffer.byteLength;
      return Buffer.from(buffer);
    }
    const bytes = Math.ceil(size / GRANULE) * GRANULE;
    const fresh = shared ? sharedBuffer(bytes) : Buffer.allocUnsafeSlow(bytes);
    this.owned.add(fresh.buffer);
    return fresh;
  }

  /**
   * Takes back the buffer `view` lies in, when this pool made it and does not hold it already; anything
   * else is left to the garbage collector.
   */
  release(view: Uint8Array): void {
    const buffer = view.buffer;
    if (!this.owned.has(buffer) || this.free.includes(buffer)) return;
    // One buffer of more than half the pool (a 96 MiB body) would push out every other and stay, never reused,
    // after a storm of large or refused bodies: it goes to the garbage collector at once.
    if (buffer.byteLength > this.maxBytes / 2) return;
    this.free.push(buffer);
    this.freeBytes += buffer.byteLength;
    // Over the limit, the buffers released longest ago go first: when the traffic changes (metric requests of
    // 1 MiB, then log batches of 4 MiB), the pool comes to hold the sizes now in use, not the old ones.
    while (this.freeBytes > this.maxBytes) this.freeBytes -= this.free.shift()!.byteLength;
  }
}
