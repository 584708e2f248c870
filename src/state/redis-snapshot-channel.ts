import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PublishedSnapshot, SnapshotChannel } from './snapshot-channel.ts';

/** Takes the lease when free, renews it when ours: 1 while we hold it. */
const LEAD = `local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
if not holder then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const RESIGN = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
/** Publishes only while the lease is ours (a leader deposed meanwhile must not overwrite its successor's snapshot). */
const PUBLISH = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local version = redis.call('incr', KEYS[2])
redis.call('hset', KEYS[3], 'version', version, 'data', ARGV[2])
return version`;

/**
 * The lease and the snapshot in the store: the lease is a key holding this process's id with the lease's
 * TTL; a snapshot is one hash (version, data) whose version comes from a counter that only grows, so a
 * replica that polls the version loads each snapshot once. Errors are the caller's (SharedTagCache counts them).
 */
export class RedisSnapshotChannel implements SnapshotChannel {
  private readonly redis: Redis;
  private readonly id = randomUUID();
  private readonly leaseKey: string;
  private readonly counterKey: string;
  private readonly snapshotKey: string;

  constructor(redis: Redis, keyPrefix: string) {
    this.redis = redis;
    this.leaseKey = `${keyPrefix}scraper:lease`;
    this.counterKey = `${keyPrefix}snapshot:counter`;
    this.snapshotKey = `${keyPrefix}snapshot`;
  }

  async lead(ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(LEAD, 1, this.leaseKey, this.id, ttlMs)) === 1;
  }

  async resign(): Promise<void> {
    await this.redis.eval(RESIGN, 1, this.leaseKey, this.id);
  }

  async publish(data: Buffer): Promise<number | undefined> {
    const version = (await this.redis.eval(PUBLISH, 3, this.leaseKey, this.counterKey, this.snapshotKey, this.id, data)) as number;
    return version === 0 ? undefined : version;
  }

  async version(): Promise<number | undefined> {
    const v = await this.redis.hget(this.snapshotKey, 'version');
    return v === null ? undefined : Number(v);
  }

  async load(): Promise<PublishedSnapshot | undefined> {
    const [version, data] = await this.redis.hmgetBuffer(this.snapshotKey, 'version', 'data');
    if (!version || !data) return undefined;
    return { version: Number(version.toString()), data };
  }
}
