import { MemoryLedgerStore, type LedgerRecord, type LedgerStore } from '../state/ledger-store.ts';

/**
 * What was delivered for one recent Firehose request, so that Firehose's retry of it (same request id,
 * same body) does not deliver twice what already went out: batches the backend accepted are skipped, and a
 * request delivered in full is acknowledged at once (our 200 may have been lost on the way back).
 *
 * Sound because a batch is only recognised by the exact records it holds: the key includes the body's
 * length and CRC-32 (bodyDigest), and a batch's id is the range of whole records it carried. A retry whose
 * batches fall differently (other tag sizes after a refresh, a batch split inside a record) simply finds no
 * match and sends again: duplicates are possible, losses are not. Kept in this process's memory, or in the
 * fleet's state store too (FIRETAP_STATE_URL), where a retry reaching another replica finds it.
 */
export class LedgerEntry {
  /** The request's key (signal, request id, body digest): with a batch id, it names a batch across retries. */
  readonly key: string;
  private readonly record: LedgerRecord;
  private readonly store: LedgerStore;

  constructor(key: string, record: LedgerRecord, store: LedgerStore) {
    this.key = key;
    this.record = record;
    this.store = store;
  }

  get delivered(): ReadonlySet<string> {
    return this.record.delivered;
  }

  get complete(): boolean {
    return this.record.complete;
  }

  /** Records a batch the backend accepted. */
  add(batchId: string): void {
    this.store.add(this.key, this.record, batchId);
  }

  /** Records the request delivered in full (before its 200). */
  finish(): Promise<void> {
    return this.store.complete(this.key, this.record);
  }
}

export class DeliveryLedger {
  private readonly store: LedgerStore;

  constructor(store: LedgerStore = new MemoryLedgerStore()) {
    this.store = store;
  }

  /** The entry of one request: one read of the store. */
  async entry(key: string): Promise<LedgerEntry> {
    return new LedgerEntry(key, await this.store.load(key), this.store);
  }
}
