import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { StateFallback } from './fallback.ts';
import { LEDGER_TTL_MS, type LedgerRecord, type LedgerStore, type MemoryLedgerStore } from './ledger-store.ts';

/** The member that marks a request delivered in full (batch ids are `first-last` ranges, never this). */
const COMPLETE = '*';

/**
 * The delivery ledger in the fleet's store, over this process's memory: a request is one set of accepted
 * batch ids (SMEMBERS: one round trip to read), each accepted batch a SADD sent as it is accepted
 * (pipelined with whatever else goes out in the same turn), the set expiring with the ledger's retention.
 * The local memory is always written too, so while the store is away a retry on this replica still skips
 * what it delivered; a retry on another replica is then delivered again (duplicates, never losses).
 */
export class RedisLedgerStore implements LedgerStore {
  private readonly redis: Redis;
  private readonly local: MemoryLedgerStore;
  private readonly fallback: StateFallback;
  private readonly prefix: string;
  /** Writes not yet answered, per request: complete() waits for them so that the store is whole before the 200. */
  private readonly pending = new Map<string, Set<Promise<unknown>>>();

  constructor(redis: Redis, local: MemoryLedgerStore, fallback: StateFallback, keyPrefix: string) {
    this.redis = redis;
    this.local = local;
    this.fallback = fallback;
    this.prefix = `${keyPrefix}ledger:`;
  }

  /** Request keys hold a request id and NUL separators: hashed into a short, printable store key. */
  private storeKey(key: string): string {
    return this.prefix + createHash('sha256').update(key).digest('base64url');
  }

  async load(key: string): Promise<LedgerRecord> {
    const record = this.local.entry(key);
    if (record.complete) return record;
    const members = await this.fallback.attempt('ledger_read', () => this.redis.smembers(this.storeKey(key)), []);
    for (const m of members) {
      if (m === COMPLETE) record.complete = true;
      else record.delivered.add(m);
    }
    return record;
  }

  add(key: string, record: LedgerRecord, batchId: string): void {
    record.delivered.add(batchId);
    this.write(key, batchId);
  }

  async complete(key: string, record: LedgerRecord): Promise<void> {
    record.complete = true;
    this.write(key, COMPLETE);
    await this.settled(key);
  }

  async settled(key: string): Promise<void> {
    await Promise.all(this.pending.get(key) ?? []);
  }

  private write(key: string, member: string): void {
    const k = this.storeKey(key);
    const done = this.fallback.attempt('ledger_write', () => this.redis.multi().sadd(k, member).pexpire(k, LEDGER_TTL_MS).exec(), null);
    const writes = this.pending.get(key) ?? new Set();
    writes.add(done);
    this.pending.set(key, writes);
    void done.finally(() => {
      writes.delete(done);
      if (writes.size === 0 && this.pending.get(key) === writes) this.pending.delete(key);
    });
  }
}
