import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { TagScraper, type Schedule } from '../../../src/enrich/scraper.ts';
import type { DiscoveredResource } from '../../../src/enrich/snapshot.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';

const config = loadConfig({ FIRETAP_ENRICHMENT_REGIONS: 'eu-west-1,us-east-1' }).enrichment;
const accounts = [{ account: '123456789012', label: 'test', credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), regions: config.regions }];

/** The refresh the scraper scheduled next (at most one at a time), run by the test instead of a timer. */
function handSchedule() {
  const clock = { next: undefined as { run: () => void; delayMs: number } | undefined, scheduled: 0 };
  const schedule: Schedule = (run, delayMs) => {
    const entry = { run, delayMs };
    clock.next = entry;
    clock.scheduled++;
    return () => {
      if (clock.next === entry) clock.next = undefined;
    };
  };
  const fire = () => {
    const entry = clock.next!;
    clock.next = undefined;
    entry.run();
  };
  return { clock, schedule, fire };
}

function scraper(discover: (region: string) => Promise<DiscoveredResource[]>, schedule?: Schedule) {
  return new TagScraper({
    config,
    metrics: createMetrics(),
    log: pino({ level: 'silent' }),
    accounts,
    discover: (t) => discover(t.region),
    ...(schedule ? { schedule } : {}),
  });
}

/** Resolves once every promise chain that can settle now has (the fake discoveries do no I/O): no timer waited on. */
const settled = () => new Promise<void>((r) => setImmediate(r));

function gate() {
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  return { opened, release };
}

describe('TagScraper', () => {
  it('never runs two refreshes at once: a second request joins the one under way', async () => {
    let running = 0;
    let peak = 0;
    let runs = 0;
    const g = gate();
    const s = scraper(async () => {
      runs++;
      peak = Math.max(peak, ++running);
      await g.opened;
      running--;
      return [];
    });
    const refreshes = Promise.all([s.refreshNow(), s.refreshNow(), s.refreshNow()]);
    await settled();
    g.release();
    await refreshes;
    expect(runs).toBe(2); // one per region, once
    expect(peak).toBeLessThanOrEqual(2);
    await s.stop();
  });

  it('swaps every scope in at once when a refresh ends', async () => {
    const g = gate();
    const s = scraper(async (region) => {
      if (region === 'us-east-1') await g.opened;
      return [{ arn: `arn:aws:sqs:${region}:123456789012:q`, tags: { t: '1' }, attributes: {}, sources: [] }];
    });
    const refreshing = s.refreshNow();
    await settled(); // eu-west-1 is discovered and indexed; us-east-1 waits at the gate
    expect(s.scope('123456789012', 'eu-west-1')).toBeUndefined(); // not half a snapshot
    g.release();
    await refreshing;
    expect(
      s
        .allScopes()
        .map((x) => x.region)
        .sort(),
    ).toEqual(['eu-west-1', 'us-east-1']);
    await s.stop();
  });

  it('refreshes at once on start, then refreshSeconds (±10 %) after each refresh has ended, never while one runs', async () => {
    const { clock, schedule, fire } = handSchedule();
    let runs = 0;
    let g = gate();
    const s = scraper(async () => {
      runs++;
      await g.opened;
      return [];
    }, schedule);
    s.start();
    s.start(); // a second start schedules nothing more
    expect(clock).toMatchObject({ next: { delayMs: 0 }, scheduled: 1 });
    fire();
    await settled();
    expect(runs).toBe(2);
    expect(clock.next).toBeUndefined(); // the next refresh waits for this one to end
    const joined = s.refreshNow(); // joins the one under way
    g.release();
    await joined;
    await settled();
    expect(runs).toBe(2);
    const base = config.refreshSeconds * 1000;
    expect(clock.next!.delayMs).toBeGreaterThanOrEqual(0.9 * base);
    expect(clock.next!.delayMs).toBeLessThanOrEqual(1.1 * base);
    g = gate();
    fire();
    await settled();
    expect(runs).toBe(4);
    g.release();
    await s.stop();
  });

  it('stops its timer and an unfinished refresh on stop', async () => {
    const { clock, schedule, fire } = handSchedule();
    const s = scraper(() => new Promise(() => {}), schedule);
    s.start();
    fire();
    await settled(); // the refresh is under way, its discoveries never answer
    const stopping = s.stop().then(() => 'stopped');
    expect(await Promise.race([stopping, settled().then(() => 'still waiting for the discoveries')])).toBe('stopped');
    expect(s.allScopes()).toEqual([]);
    expect(clock).toMatchObject({ next: undefined, scheduled: 1 }); // nothing scheduled after the stop
    s.start();
    expect(clock.scheduled).toBe(1);
  });

  it('cancels the refresh scheduled next on stop', async () => {
    const { clock, schedule, fire } = handSchedule();
    const s = scraper(async () => [], schedule);
    s.start();
    fire();
    await settled();
    expect(clock.next).toBeDefined();
    await s.stop();
    expect(clock.next).toBeUndefined();
  });
});
