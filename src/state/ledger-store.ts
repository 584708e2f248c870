/** What is known of one request's delivery: the batches the backend accepted, and whether all of it was. */
export interface LedgerRecord {
  readonly delivered: Set<string>;
  complete: boolean;
}

/**
 * Where the delivery ledger keeps its records (src/pipeline/delivery-ledger.ts says what they mean): in
 * this process's memory, or in the fleet's store as well (RedisLedgerStore), so that a Firehose retry
 * reaching another replica skips what this one delivered.
 */
export interface LedgerStore {
  /** One request's record: a live object, which `add` and `complete` update. */
  load(key: string): Promise<LedgerRecord>;
  /** Records a batch the backend accepted. */
  add(key: string, record: LedgerRecord, batchId: string): void;
  /** Marks the request delivered in full; settles once the store has it (or gave up). */
  complete(key: string, record: LedgerRecord): Promise<void>;
  /** Settles once the store has every batch added for this key so far (or gave up). */
  settled(key: string): Promise<void>;
}

/** The delivery ledger's retention: Firehose retries for up to 2 hours, plus margin. */
export const LEDGER_TTL_MS = 2 * 60 * 60 * 1000 + 10 * 60 * 1000;

interface Entry extends LedgerRecord {
  readonly at: number;
}

/** The ledger in this process's memory: bounded (least recently used forgotten first) and expiring. */
export class MemoryLedgerStore implements LedgerStore {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  constructor(maxEntries = 10_000, ttlMs = LEDGER_TTL_MS) {
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
  }

  /** The entry of one request (created when absent), most recently used last. */
  entry(key: string, now = Date.now()): LedgerRecord {
    let e = this.entries.get(key);
    if (e && now - e.at > this.ttlMs) e = undefined;
    if (e) this.entries.delete(key);
    else e = { delivered: new Set(), complete: false, at: now };
    this.entries.set(key, e);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return e;
  }

  async load(key: string): Promise<LedgerRecord> {
    return this.entry(key);
  }

  add(_key: string, record: LedgerRecord, batchId: string): void {
    record.delivered.add(batchId);
  }

  async complete(_key: string, record: LedgerRecord): Promise<void> {
    record.complete = true;
  }

  async settled(): Promise<void> {}

  get size(): number {
    return this.entries.size;
  }
}
