import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { StateFallback } from './fallback.ts';

/** Of the uniqueIds an attempt asked to reserve: those counted already, and those another attempt holds now. */
export interface MeterReservation {
  readonly counted: ReadonlySet<string>;
  readonly elsewhere: ReadonlySet<string>;
}

/**
 * Meter records counted once across the fleet (the per-process memory is MeterDeduplicator, in
 * src/decode/meter-records.ts, which every replica keeps as well). An attempt reserves its records'
 * uniqueIds before it counts them, confirms them when its request is acknowledged, and releases them when
 * it fails, so that the retry of a failed request still counts them.
 */
export interface MeterIdStore {
  reserve(ids: readonly string[]): Promise<MeterReservation & { readonly token: string }>;
  confirm(ids: readonly string[], windowMs: number): Promise<void>;
  release(ids: readonly string[], token: string): Promise<void>;
}

const CONFIRMED = 'c';
/** uniqueIds are the sender's text: one longer than this is keyed by its hash, so that keys stay small. */
const MAX_ID_IN_KEY = 128;
/** Deletes a reservation only if it is still this attempt's (not one confirmed or taken over since). */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * uniqueIds in the store: `SET NX` with this attempt's token and a short TTL (the request's deadline and
 * some) to reserve, pipelined for the whole request with a `GET` of each to tell a counted id from one
 * reserved by an attempt in flight elsewhere; `SET` to the confirmed mark with the dedupe window's TTL;
 * a compare-and-delete to release. A store that does not answer reserves nothing and counts nothing:
 * the local memory alone dedupes then (StateFallback counts it).
 */
export class RedisMeterIdStore implements MeterIdStore {
  private readonly redis: Redis;
  private readonly fallback: StateFallback;
  private readonly prefix: string;
  private readonly reserveTtlMs: number;

  constructor(redis: Redis, fallback: StateFallback, keyPrefix: string, reserveTtlMs: number) {
    this.redis = redis;
    this.fallback = fallback;
    this.prefix = `${keyPrefix}meter:`;
    this.reserveTtlMs = reserveTtlMs;
  }

  private key(id: string): string {
    return this.prefix + (id.length <= MAX_ID_IN_KEY ? id : `sha256:${createHash('sha256').update(id).digest('base64url')}`);
  }

  async reserve(ids: readonly string[]): Promise<MeterReservation & { token: string }> {
    const token = randomUUID();
    const none = { counted: new Set<string>(), elsewhere: new Set<string>(), token };
    if (ids.length === 0) return none;
    return this.fallback.attempt(
      'meter_reserve',
      async () => {
        const pipeline = this.redis.pipeline();
        for (const id of ids) pipeline.set(this.key(id), token, 'PX', this.reserveTtlMs, 'NX').get(this.key(id));
        const results = (await pipeline.exec()) ?? [];
        const counted = new Set<string>();
        const elsewhere = new Set<string>();
        ids.forEach((id, i) => {
          const [setErr] = results[2 * i] ?? [];
          const [getErr, holder] = results[2 * i + 1] ?? [];
          if (setErr || getErr) throw setErr ?? getErr;
          if (holder === CONFIRMED) counted.add(id);
          else if (holder !== token) elsewhere.add(id);
        });
        return { counted, elsewhere, token };
      },
      none,
    );
  }

  async confirm(ids: readonly string[], windowMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.fallback.attempt(
      'meter_confirm',
      async () => {
        const pipeline = this.redis.pipeline();
        for (const id of ids) pipeline.set(this.key(id), CONFIRMED, 'PX', windowMs);
        for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
      },
      undefined,
    );
  }

  async release(ids: readonly string[], token: string): Promise<void> {
    if (ids.length === 0) return;
    await this.fallback.attempt(
      'meter_release',
      async () => {
        const pipeline = this.redis.pipeline();
        for (const id of ids) pipeline.eval(RELEASE, 1, this.key(id), token);
        for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
      },
      undefined,
    );
  }
}
