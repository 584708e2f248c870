import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectState } from '../../src/state/connect.ts';
import { StateFallback } from '../../src/state/fallback.ts';
import { LEDGER_TTL_MS, MemoryLedgerStore } from '../../src/state/ledger-store.ts';
import { RedisLedgerStore } from '../../src/state/redis-ledger-store.ts';
import { RedisMeterIdStore } from '../../src/state/meter-id-store.ts';
import { RedisSnapshotChannel } from '../../src/state/redis-snapshot-channel.ts';
import type { ExportResult, Exporter } from '../../src/export/exporter.ts';
import { createFanOut } from '../../src/export/fan-out.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { RedisServer } from '../helpers/redis-server.ts';

let server: RedisServer;
const clients: Redis[] = [];
beforeAll(async () => {
  server = await new RedisServer().start();
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  // Each test starts from an empty store (nothing is persisted).
  await server.stop();
  await server.start();
});

/** One replica's view of the store: its own client, fallback (with the lines it logged) and metrics. */
async function replica(prefix = 'test:') {
  const redis = connectState({ url: server.url, keyPrefix: prefix, timeoutMs: 500, leaseTtlMs: 1000 }, {});
  redis.on('error', () => {});
  clients.push(redis);
  await redis.connect();
  const metrics = createMetrics();
  const logged: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line).msg) });
  const fallback = new StateFallback(metrics, log);
  return { redis, metrics, logged, fallback, prefix };
}

const errors = async (metrics: ReturnType<typeof createMetrics>, op: string) =>
  (await metrics.stateErrors.get()).values.find((v) => v.labels.op === op)?.value ?? 0;

describe('the delivery ledger in the store', () => {
  it('shows a batch one replica delivered, and a request it completed, to another replica', async () => {
    const a = await replica();
    const b = await replica();
    const storeA = new RedisLedgerStore(a.redis, new MemoryLedgerStore(), a.fallback, a.prefix);
    const storeB = new RedisLedgerStore(b.redis, new MemoryLedgerStore(), b.fallback, b.prefix);
    const onA = await storeA.load('logs\u0000req-1\u0000digest');
    storeA.add('logs\u0000req-1\u0000digest', onA, '0-10');
    storeA.add('logs\u0000req-1\u0000digest', onA, '10-20');
    const onB = await storeB.load('logs\u0000req-1\u0000digest');
    expect([...onB.delivered].sort()).toEqual(['0-10', '10-20']);
    expect(onB.complete).toBe(false);
    await storeA.complete('logs\u0000req-1\u0000digest', onA);
    const again = await new RedisLedgerStore(b.redis, new MemoryLedgerStore(), b.fallback, b.prefix).load('logs\u0000req-1\u0000digest');
    expect(again.complete).toBe(true);
    const [key] = await a.redis.keys('test:ledger:*');
    const ttl = await a.redis.pttl(key!);
    expect(ttl).toBeGreaterThan(LEDGER_TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(LEDGER_TTL_MS);
  });

  it('falls back to the local memory while the store is down, counting and logging the fallback once', async () => {
    const a = await replica();
    const store = new RedisLedgerStore(a.redis, new MemoryLedgerStore(), a.fallback, a.prefix);
    await server.stop();
    const first = await store.load('metrics\u0000r\u0000d');
    store.add('metrics\u0000r\u0000d', first, '0-5');
    await store.complete('metrics\u0000r\u0000d', first);
    const retry = await store.load('metrics\u0000r\u0000d');
    expect(retry.complete).toBe(true);
    expect(await errors(a.metrics, 'ledger_write')).toBeGreaterThanOrEqual(1);
    expect(a.logged.filter((m) => m.startsWith('state store unreachable'))).toHaveLength(1);
    await server.start();
    await expect.poll(() => a.redis.status, { timeout: 5000 }).toBe('ready');
    await store.load('metrics\u0000other\u0000d');
    expect(a.logged.filter((m) => m.startsWith('state store reachable again'))).toHaveLength(1);
  });
});

describe('meter-record uniqueIds in the store', () => {
  it('are counted by the replica that reserved and confirmed them, and by no other', async () => {
    const a = await replica();
    const b = await replica();
    const storeA = new RedisMeterIdStore(a.redis, a.fallback, a.prefix, 10_000);
    const storeB = new RedisMeterIdStore(b.redis, b.fallback, b.prefix, 10_000);
    const reservedA = await storeA.reserve(['u-1', 'u-2']);
    expect(reservedA.counted.size + reservedA.elsewhere.size).toBe(0);
    const whileInFlight = await storeB.reserve(['u-2', 'u-3']);
    expect([...whileInFlight.elsewhere]).toEqual(['u-2']);
    await storeB.release(['u-3'], whileInFlight.token);
    await storeA.confirm(['u-1', 'u-2'], 60_000);
    const after = await storeB.reserve(['u-1', 'u-2', 'u-3']);
    expect([...after.counted].sort()).toEqual(['u-1', 'u-2']);
    expect(after.elsewhere.size).toBe(0);
    expect(await a.redis.pttl('test:meter:u-1')).toBeGreaterThan(50_000);
  });

  it('are free again once the attempt that reserved them released them (its request failed)', async () => {
    const a = await replica();
    const store = new RedisMeterIdStore(a.redis, a.fallback, a.prefix, 10_000);
    const failed = await store.reserve(['u-7']);
    await store.release(['u-7'], failed.token);
    const retry = await store.reserve(['u-7']);
    expect(retry.counted.size + retry.elsewhere.size).toBe(0);
    // A release by an attempt that no longer holds the reservation leaves the holder's alone.
    await store.release(['u-7'], failed.token);
    expect(await a.redis.get('test:meter:u-7')).toBe(retry.token);
  });
});

describe('meter-record uniqueIds of any length', () => {
  it('are keyed by their hash when long, and still counted once', async () => {
    const a = await replica();
    const store = new RedisMeterIdStore(a.redis, a.fallback, a.prefix, 10_000);
    const long = `order-${'x'.repeat(500)}`;
    const first = await store.reserve([long]);
    await store.confirm([long], 60_000);
    expect((await store.reserve([long])).counted).toEqual(new Set([long]));
    expect(first.counted.size).toBe(0);
    const keys = await a.redis.keys('test:meter:*');
    expect(keys).toHaveLength(1);
    expect(keys[0]!.length).toBeLessThan(80);
  });
});

describe('the scraper lease and snapshot channel', () => {
  it('lets one replica lead and publish, the others load its version, and another lead once it resigns', async () => {
    const a = new RedisSnapshotChannel((await replica()).redis, 'test:');
    const b = new RedisSnapshotChannel((await replica()).redis, 'test:');
    expect(await a.lead(1000)).toBe(true);
    expect(await b.lead(1000)).toBe(false);
    expect(await a.lead(1000)).toBe(true);
    expect(await b.publish(Buffer.from('not the leader'))).toBeUndefined();
    expect(await a.publish(Buffer.from([1, 2, 3]))).toBe(1);
    expect(await a.publish(Buffer.from([4, 5]))).toBe(2);
    expect(await b.version()).toBe(2);
    expect(await b.load()).toEqual({ version: 2, data: Buffer.from([4, 5]) });
    await a.resign();
    expect(await b.lead(1000)).toBe(true);
    expect(await a.publish(Buffer.from('deposed'))).toBeUndefined();
  });

  it('passes to another replica within its TTL when the leader stops renewing it', async () => {
    const a = new RedisSnapshotChannel((await replica()).redis, 'test:');
    const b = new RedisSnapshotChannel((await replica()).redis, 'test:');
    expect(await a.lead(300)).toBe(true);
    expect(await b.lead(300)).toBe(false);
    await new Promise((r) => setTimeout(r, 350));
    expect(await b.lead(300)).toBe(true);
  });
});

describe('a fan-out of several exporters over the store', () => {
  /** Answers from a script (success once it is used up), counting its calls. */
  const member = (...script: ExportResult[]): Exporter & { calls: number } => ({
    calls: 0,
    async export() {
      this.calls++;
      return script.shift() ?? { status: 'success' };
    },
    async shutdown() {},
  });

  it("sends a batch's retry on another replica only to the members that had not accepted it", async () => {
    const a = await replica();
    const b = await replica();
    const [a1, a2] = [member(), member({ status: 'retryable', message: 'backend 2 answered 503' })];
    const [b1, b2] = [member(), member()];
    const onA = createFanOut([a1, a2], { store: new RedisLedgerStore(a.redis, new MemoryLedgerStore(), a.fallback, a.prefix) });
    const onB = createFanOut([b1, b2], { store: new RedisLedgerStore(b.redis, new MemoryLedgerStore(), b.fallback, b.prefix) });
    const request = { signal: 'logs' as const, payload: new Uint8Array(), items: 3, deadline: Date.now() + 5000, batchKey: 'logs\u0000r\u0000d\u00000-3' };
    expect((await onA.export(request)).status).toBe('retryable');
    expect((await onB.export(request)).status).toBe('success');
    expect([a1.calls, a2.calls, b1.calls, b2.calls]).toEqual([1, 1, 0, 1]);
    // Without a batch key nothing is recognised: every member gets it again (at least once per member).
    await onB.export({ ...request, batchKey: undefined });
    expect([b1.calls, b2.calls]).toEqual([1, 2]);
  });
});
