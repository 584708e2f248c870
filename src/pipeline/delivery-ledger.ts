/**
 * A bounded memory of what was delivered for recent Firehose requests, so that Firehose's retry of a
 * request (same request id, same body) does not deliver twice what already went out: batches the
 * backend accepted are skipped, and a request delivered in full is acknowledged at once (our 200 may
 * have been lost on the way back).
 *
 * Sound because a batch is only recognised by the exact records it holds: the key includes the body's
 * length and CRC-32 (bodyDigest), and a batch's id is the range of whole records it carried. A retry whose batches fall
 * differently (other tag sizes after a refresh, a batch split inside a record) simply finds no match
 * and sends again: duplicates are possible, losses are not. Per process: a retry that reaches another
 * replica is delivered again.
 */
export interface LedgerEntry {
  /** The request's key (signal, request id, body digest): with a batch id, it names a batch across retries. */
  readonly key: string;
  readonly delivered: Set<string>;
  complete: boolean;
  readonly at: number;
}

export class DeliveryLedger {
  private readonly entries = new Map<string, LedgerEntry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  constructor(maxEntries = 10_000, ttlMs = 2 * 60 * 60 * 1000 + 10 * 60 * 1000) {
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
  }

  /** The entry of one request (created when absent), most recently used last. */
  entry(key: string, now = Date.now()): LedgerEntry {
    let e = this.entries.get(key);
    if (e && now - e.at > this.ttlMs) e = undefined;
    if (e) this.entries.delete(key);
    else e = { key, delivered: new Set(), complete: false, at: now };
    this.entries.set(key, e);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return e;
  }

  get size(): number {
    return this.entries.size;
  }
}
