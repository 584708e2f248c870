import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { TagScraper } from '../../../src/enrich/scraper.ts';
import type { DiscoveredResource } from '../../../src/enrich/snapshot.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';

const config = loadConfig({ FIRETAP_ENRICHMENT_REGIONS: 'eu-west-1,us-east-1' }).enrichment;
const accounts = [{ account: '123456789012', label: 'test', credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), regions: config.regions }];

function scraper(discover: (region: string) => Promise<DiscoveredResource[]>) {
  return new TagScraper({ config, metrics: createMetrics(), log: pino({ level: 'silent' }), accounts, discover: (t) => discover(t.region) });
}

describe('TagScraper', () => {
  it('never runs two refreshes at once: a second request joins the one under way', async () => {
    let running = 0;
    let peak = 0;
    let runs = 0;
    const s = scraper(async () => {
      runs++;
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      return [];
    });
    await Promise.all([s.refreshNow(), s.refreshNow(), s.refreshNow()]);
    expect(runs).toBe(2); // one per region, once
    expect(peak).toBeLessThanOrEqual(2);
    await s.stop();
  });

  it('swaps every scope in at once when a refresh ends', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = scraper(async (region) => {
      if (region === 'us-east-1') await gate;
      return [{ arn: `arn:aws:sqs:${region}:123456789012:q`, tags: { t: '1' }, attributes: {}, sources: [] }];
    });
    const refreshing = s.refreshNow();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.scope('123456789012', 'eu-west-1')).toBeUndefined(); // not half a snapshot
    release();
    await refreshing;
    expect(s.allScopes().map((x) => x.region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    await s.stop();
  });

  it('stops its timer and an unfinished refresh on stop', async () => {
    const s = scraper(() => new Promise(() => {}));
    s.start();
    await new Promise((r) => setTimeout(r, 20));
    await s.stop();
    expect(s.allScopes()).toEqual([]);
  });
});
