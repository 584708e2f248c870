import type { FastifyBaseLogger } from 'fastify';
import type { EnrichmentConfig } from './settings.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { DiscoveryError, discoverScope, type ScopeTarget } from './aws-discovery.ts';
import type { SnapshotHeld, TagCache } from './enrichment.ts';
import { buildScopeIndex, resourceCounts, scopeAges, scopeKey, tagFilterOf, type ScopeIndex } from './snapshot.ts';
import { accountCredentials, callerAccount, type AccountCredentials } from './targets.ts';

/** Scopes (account × region) refreshed at once. */
const SCOPE_CONCURRENCY = 4;

/** Runs `run` once after `delayMs` (never before it returns); the function returned cancels it. */
export type Schedule = (run: () => void, delayMs: number) => () => void;

/** On an unref'd timer, which never keeps the process alive. */
const onTimer: Schedule = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};

export interface TagScraperOptions {
  readonly config: EnrichmentConfig;
  readonly metrics: Metrics;
  readonly log: FastifyBaseLogger;
  /** Replaces AWS discovery (narrow tests only). */
  readonly discover?: typeof discoverScope;
  readonly accounts?: AccountCredentials[];
  /** When the next refresh runs (tests drive it by hand); an unref'd timer by default. */
  readonly schedule?: Schedule;
  /** Called with each new snapshot (the fleet's leader publishes it: SharedTagCache). */
  readonly onRefreshed?: (scopes: ReadonlyMap<string, ScopeIndex>) => void;
}

/**
 * Keeps the tag cache fresh in the background. One refresh pages through every API once per account ×
 * region, builds a new index per scope and swaps the whole map in at once; a scope whose refresh fails
 * keeps its previous index, marked stale. Refreshes never overlap: the next is scheduled (with ±10 %
 * jitter) only when the last has finished, on an unref'd timer (opts.schedule) that never keeps the process alive.
 * The request path only reads `scope()`: stale tags beat a blocked delivery.
 */
export class TagScraper implements TagCache {
  private scopes: ReadonlyMap<string, ScopeIndex> = new Map();
  /** Cancels the refresh scheduled next, while one is. */
  private cancelNext: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly aborted = new Promise<never>((_, reject) =>
    this.abort.signal.addEventListener('abort', () => reject(new Error('tag scraper stopped')), { once: true }),
  );
  private stopped = false;
  private refreshed = false;
  /** Snapshots this process built, and when the last one was. */
  private refreshes = 0;
  private refreshedAt: number | undefined;
  private readonly startedAt = Date.now();
  private readonly accounts: AccountCredentials[];
  private readonly resolvedAccounts = new Map<AccountCredentials, string>();
  private readonly opts: TagScraperOptions;

  constructor(opts: TagScraperOptions) {
    this.opts = opts;
    this.aborted.catch(() => {});
    this.accounts = opts.accounts ?? accountCredentials(opts.config);
    opts.metrics.setSnapshotAges(() => scopeAges(this.scopes));
  }

  scope(account: string, region: string): ScopeIndex | undefined {
    return this.scopes.get(scopeKey(account, region));
  }

  /** Every scope's index, as one map replaced (never changed) by each refresh. */
  snapshot(): ReadonlyMap<string, ScopeIndex> {
    return this.scopes;
  }

  allScopes(): ScopeIndex[] {
    return [...this.scopes.values()];
  }

  held(): SnapshotHeld {
    return {
      version: this.refreshes === 0 ? undefined : this.refreshes,
      ageSeconds: this.refreshedAt === undefined ? undefined : (Date.now() - this.refreshedAt) / 1000,
      leader: true,
    };
  }

  /** True once the first refresh finished (whatever its outcome), or when the ready timeout has passed. */
  ready(): boolean {
    return this.refreshed || Date.now() - this.startedAt >= this.opts.config.readyTimeoutMs;
  }

  start(): void {
    if (this.stopped || this.cancelNext || this.running) return;
    this.schedule(0);
  }

  /** Refreshes now, or waits for the refresh under way: never two at once. */
  refreshNow(): Promise<void> {
    this.running ??= this.refresh().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelNext?.();
    this.cancelNext = undefined;
    this.abort.abort();
    await this.running?.catch(() => {});
  }

  private schedule(delayMs: number): void {
    this.cancelNext = (this.opts.schedule ?? onTimer)(() => {
      this.cancelNext = undefined;
      void this.refreshNow().finally(() => {
        if (this.stopped) return;
        const base = this.opts.config.refreshSeconds * 1000;
        this.schedule(base * (0.9 + Math.random() * 0.2));
      });
    }, delayMs);
  }

  private async refresh(): Promise<void> {
    const { metrics, log } = this.opts;
    const started = performance.now();
    const targets = await this.targets();
    const results = new Map<string, ScopeIndex>();
    const queue = [...targets];
    const worker = async (): Promise<void> => {
      for (let t = queue.shift(); t && !this.stopped; t = queue.shift()) {
        const key = scopeKey(t.account, t.region);
        try {
          // Stop must not wait on a call that ignores the abort signal: race the two.
          const resources = await Promise.race([
            (this.opts.discover ?? discoverScope)(t, { abortSignal: this.abort.signal, onCall: (api) => metrics.enrichmentApiCalls.inc({ api }) }),
            this.aborted,
          ]);
          results.set(key, buildScopeIndex(t.account, t.region, resources, tagFilterOf(this.opts.config)));
        } catch (err) {
          if (this.stopped) return;
          const e = err as Error;
          const api = e instanceof DiscoveryError ? e.api : 'discovery';
          const code = e instanceof DiscoveryError ? e.code : e.name;
          metrics.enrichmentApiErrors.inc({ api, code });
          const previous = this.scopes.get(key);
          if (previous) results.set(key, { ...previous, stale: true });
          log.warn(
            { account: t.account, region: t.region, api, code, error: e.message },
            previous ? 'tag refresh failed; keeping the previous snapshot' : 'tag refresh failed; no snapshot yet',
          );
        }
      }
    };
    await Promise.all(Array.from({ length: SCOPE_CONCURRENCY }, worker));
    if (this.stopped) return;
    // Scopes that are no longer configured drop out; all others are replaced in one assignment.
    this.scopes = results;
    metrics.enrichmentResources.reset();
    metrics.enrichmentStale.reset();
    for (const s of results.values()) {
      metrics.enrichmentStale.set({ account: s.account, region: s.region }, s.stale ? 1 : 0);
      for (const [namespace, n] of resourceCounts(s)) metrics.enrichmentResources.set({ account: s.account, region: s.region, namespace }, n);
    }
    metrics.enrichmentRefreshDuration.observe((performance.now() - started) / 1000);
    this.refreshed = true;
    this.refreshes++;
    this.refreshedAt = Date.now();
    this.opts.onRefreshed?.(results);
    log.info(
      { scopes: results.size, resources: [...results.values()].reduce((n, s) => n + s.byArn.size, 0), ms: Math.round(performance.now() - started) },
      'tag cache refreshed',
    );
  }

  /** Accounts × regions; the default credentials' account is asked of STS once. */
  private async targets(): Promise<ScopeTarget[]> {
    const out: ScopeTarget[] = [];
    for (const a of this.accounts) {
      let account = a.account ?? this.resolvedAccounts.get(a);
      if (account === undefined) {
        try {
          account = await callerAccount(a.credentials, a.regions[0] ?? 'us-east-1', this.abort.signal);
          this.resolvedAccounts.set(a, account);
        } catch (err) {
          this.opts.metrics.enrichmentApiErrors.inc({ api: 'sts:GetCallerIdentity', code: (err as Error).name });
          this.opts.log.warn(
            { credentials: a.label, error: (err as Error).message },
            'cannot tell which account the credentials belong to; skipping them this refresh',
          );
          continue;
        }
      }
      for (const region of a.regions) out.push({ account, region, credentials: a.credentials });
    }
    return out;
  }
}
