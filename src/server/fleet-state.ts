import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.ts';
import { openStateClient } from '../config/state-client.ts';
import type { SharedMeterIds } from '../decode/meter-records.ts';
import type { TagCache } from '../enrich/enrichment.ts';
import type { TagScraper, TagScraperOptions } from '../enrich/scraper.ts';
import { SharedTagCache } from '../enrich/shared-tag-cache.ts';
import { DeliveryLedger } from '../pipeline/delivery-ledger.ts';
import { StateFallback } from '../state/fallback.ts';
import { keepIamToken } from '../state/iam-token.ts';
import { MemoryLedgerStore, type LedgerStore } from '../state/ledger-store.ts';
import { RedisMeterIdStore } from '../state/meter-id-store.ts';
import { RedisLedgerStore } from '../state/redis-ledger-store.ts';
import { RedisSnapshotChannel } from '../state/redis-snapshot-channel.ts';
import type { Metrics } from '../telemetry/metrics.ts';

/** A reservation of meter records outlives its attempt's deadline by this much. */
const RESERVE_MARGIN_MS = 5000;

/** What the replicas share (or each keeps to itself, without FIRETAP_STATE_URL). */
export interface FleetState {
  readonly ledger: DeliveryLedger;
  /** Which members of a fan-out accepted a batch, for the whole fleet (undefined: each fan-out's own memory). */
  readonly fanOutStore: LedgerStore | undefined;
  readonly meterIds: SharedMeterIds | undefined;
  /** The tag cache: this process's own scraper, or the fleet's (one scraper, its snapshot loaded by all). */
  tagCache(create: (extra: Pick<TagScraperOptions, 'onRefreshed'>) => TagScraper): TagCache;
  close(): Promise<void>;
}

/**
 * Opens the shared state store when one is configured, and builds the ledger, meter-record dedupe and tag
 * cache over it; without one, each is this process's memory, as a single process has always had it.
 */
export async function openFleetState(config: Config, metrics: Metrics, log: FastifyBaseLogger): Promise<FleetState> {
  const local = new MemoryLedgerStore();
  const redis = await openStateClient(config.state);
  if (!redis) {
    return { ledger: new DeliveryLedger(local), fanOutStore: undefined, meterIds: undefined, tagCache: (create) => create({}), close: async () => {} };
  }
  const fallback = new StateFallback(metrics, log);
  // An outage is the fallback's to report (once per transition); the client's own error events would repeat it.
  redis.on('error', () => {});
  const { keyPrefix, iamCacheName, iamRegion, username } = config.state;
  // ElastiCache IAM authentication: a token signed with the pod's credentials stands for the password.
  const stopToken =
    iamCacheName && iamRegion && username
      ? await keepIamToken(
          redis,
          { cacheName: iamCacheName, region: iamRegion, userId: username, serverless: new URL(config.state.url!).hostname.includes('.serverless.') },
          (err) => fallback.failed('iam_token', err),
        )
      : () => {};
  try {
    await redis.connect();
    await redis.ping();
    log.info(
      { store: `${new URL(config.state.url!).host}` },
      'state store connected: the replicas share the delivery ledger, meter-record dedupe and tag scraper',
    );
  } catch (err) {
    fallback.failed('lease', err);
  }
  return {
    ledger: new DeliveryLedger(new RedisLedgerStore(redis, local, fallback, keyPrefix)),
    fanOutStore: new RedisLedgerStore(redis, new MemoryLedgerStore(), fallback, keyPrefix),
    meterIds: {
      store: new RedisMeterIdStore(redis, fallback, keyPrefix, config.requestTimeoutMs + RESERVE_MARGIN_MS),
      windowMs: config.meters.dedupeWindowSeconds * 1000,
    },
    tagCache: (create) =>
      new SharedTagCache({
        config: config.enrichment,
        metrics,
        log,
        channel: new RedisSnapshotChannel(redis, keyPrefix),
        fallback,
        leaseTtlMs: config.state.leaseTtlMs,
        createScraper: (onRefreshed) => create({ onRefreshed }),
      }),
    close: async () => {
      stopToken();
      redis.disconnect();
    },
  };
}
