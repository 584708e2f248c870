import type { FastifyBaseLogger } from 'fastify';
import type { StateFallback } from '../state/fallback.ts';
import type { SnapshotChannel } from '../state/snapshot-channel.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { SnapshotHeld, TagCache } from './enrichment.ts';
import type { TagScraper } from './scraper.ts';
import type { EnrichmentConfig } from './settings.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.ts';
import { resourceCounts, scopeAges, scopeKey, tagFilterOf, type ScopeIndex } from './snapshot.ts';

export interface SharedTagCacheOptions {
  readonly config: EnrichmentConfig;
  readonly metrics: Metrics;
  readonly log: FastifyBaseLogger;
  readonly channel: SnapshotChannel;
  readonly fallback: StateFallback;
  readonly leaseTtlMs: number;
  /** A scraper of AWS that reports each snapshot it builds (created when this replica takes the lease). */
  readonly createScraper: (onRefreshed: (scopes: ReadonlyMap<string, ScopeIndex>) => void) => TagScraper;
}

/**
 * The fleet's one tag scraper. Every third of the lease's TTL, a replica takes or renews the lease; the one
 * holding it runs a TagScraper and publishes each snapshot it builds, the others load each new version
 * (they poll it). All serve tags from the snapshot they hold. A leader that loses the lease (or cannot
 * renew it before its key expires) stops scraping; when the leader dies, the key expires and another
 * replica takes it within one TTL. While the store is away, every replica keeps serving the snapshot it holds.
 */
export class SharedTagCache implements TagCache {
  private scopes: ReadonlyMap<string, ScopeIndex> = new Map();
  private version: number | undefined;
  private heldSince: number | undefined;
  private scraper: TagScraper | undefined;
  private renewedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private readonly startedAt = Date.now();
  private readonly opts: SharedTagCacheOptions;

  constructor(opts: SharedTagCacheOptions) {
    this.opts = opts;
    opts.metrics.setSnapshotAges(this.ages);
  }

  /** The age of each scope this replica serves (the leader's scraper would report its own, the same scopes). */
  private readonly ages = () => scopeAges(this.scopes);

  scope(account: string, region: string): ScopeIndex | undefined {
    return this.scopes.get(scopeKey(account, region));
  }

  snapshot(): ReadonlyMap<string, ScopeIndex> {
    return this.scopes;
  }

  allScopes(): ScopeIndex[] {
    return [...this.scopes.values()];
  }

  ready(): boolean {
    return this.version !== undefined || (this.scraper?.ready() ?? false) || Date.now() - this.startedAt >= this.opts.config.readyTimeoutMs;
  }

  held(): SnapshotHeld {
    return {
      version: this.version,
      ageSeconds: this.heldSince === undefined ? undefined : (Date.now() - this.heldSince) / 1000,
      leader: this.scraper !== undefined,
    };
  }

  start(): void {
    if (this.stopped || this.timer) return;
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.opts.leaseTtlMs / 3)));
    this.timer.unref();
    void this.tick();
  }

  /** The leader refreshes now; another replica checks for a newer snapshot now. */
  async refreshNow(): Promise<void> {
    await this.tick();
    await this.scraper?.refreshNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    if (this.scraper) {
      await this.stepDown('shutting down');
      await this.opts.fallback.attempt('lease', () => this.opts.channel.resign(), undefined);
    }
  }

  /** One turn: take or renew the lease, then (not leading) load a newer snapshot. Turns never overlap. */
  private tick(): Promise<void> {
    this.ticking ??= this.turn().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async turn(): Promise<void> {
    const { channel, fallback, leaseTtlMs, log, metrics } = this.opts;
    // The key lives two renewals (one may be missed): it expires at most 2/3 of the TTL after the leader's death,
    // and another replica, trying every third, holds it within one TTL.
    const holdMs = Math.ceil((leaseTtlMs * 2) / 3);
    const leads = await fallback.attempt('lease', () => channel.lead(holdMs), undefined);
    if (this.stopped) return;
    if (leads === true) {
      this.renewedAt = Date.now();
      if (!this.scraper) {
        log.info({ leaseTtlMs }, 'took the tag scraper lease: this replica scrapes AWS for the fleet');
        this.scraper = this.opts.createScraper((scopes) => void this.publish(scopes));
        metrics.setSnapshotAges(this.ages);
        metrics.scraperLeader.set(1);
        this.scraper.start();
      }
      return;
    }
    // Lost to another replica, or not renewed before its key expired (another may hold it by now).
    if (this.scraper && (leads === false || Date.now() - this.renewedAt >= holdMs)) await this.stepDown('the lease passed to another replica');
    if (leads === undefined || this.scraper) return;
    await this.loadNewer();
  }

  private async stepDown(why: string): Promise<void> {
    const scraper = this.scraper;
    this.scraper = undefined;
    this.opts.metrics.scraperLeader.set(0);
    this.opts.log.info({ why }, 'stopped scraping AWS: another replica holds the tag scraper lease');
    await scraper?.stop();
  }

  private async publish(scopes: ReadonlyMap<string, ScopeIndex>): Promise<void> {
    this.serve(scopes, this.version);
    const { channel, fallback } = this.opts;
    const version = await fallback.attempt('snapshot_publish', async () => channel.publish(await encodeSnapshot(scopes)), undefined);
    if (version !== undefined) this.serve(scopes, version);
  }

  private async loadNewer(): Promise<void> {
    const { channel, fallback, config, log } = this.opts;
    const version = await fallback.attempt('snapshot_load', () => channel.version(), undefined);
    if (version === undefined || (this.version !== undefined && version <= this.version)) return;
    const loaded = await fallback.attempt(
      'snapshot_load',
      async () => {
        const published = await channel.load();
        return published && { version: published.version, scopes: await decodeSnapshot(published.data, tagFilterOf(config)) };
      },
      undefined,
    );
    if (!loaded || this.stopped || this.scraper) return;
    this.serve(loaded.scopes, loaded.version);
    log.info({ version: loaded.version, scopes: loaded.scopes.size }, 'loaded the tag snapshot the fleet leader published');
  }

  private serve(scopes: ReadonlyMap<string, ScopeIndex>, version: number | undefined): void {
    this.scopes = scopes;
    this.version = version;
    this.heldSince = Math.min(...[...scopes.values()].map((s) => s.fetchedAt), Date.now());
    const { metrics } = this.opts;
    metrics.snapshotVersion.set(version ?? 0);
    if (this.scraper) return;
    // The leader's scraper sets these for the scopes it built; a follower, for the scopes it loaded.
    metrics.enrichmentResources.reset();
    metrics.enrichmentStale.reset();
    for (const s of scopes.values()) {
      metrics.enrichmentStale.set({ account: s.account, region: s.region }, s.stale ? 1 : 0);
      for (const [namespace, n] of resourceCounts(s)) metrics.enrichmentResources.set({ account: s.account, region: s.region, namespace }, n);
    }
  }
}
