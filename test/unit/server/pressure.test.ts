import { afterEach, describe, expect, it, vi } from 'vitest';
import { startPressureSampler } from '../../../src/server/pressure.ts';

afterEach(() => vi.restoreAllMocks());

describe('the pressure sampler', () => {
  it('samples memory and the event loop once a second', async () => {
    const sampler = startPressureSampler(() => {});
    try {
      await new Promise((r) => setTimeout(r, 1100));
      const sample = sampler.current();
      expect(sample.heapUsedBytes).toBeGreaterThan(0);
      expect(sample.rssBytes).toBeGreaterThan(0);
      expect(sample.eventLoopDelay).toBeGreaterThanOrEqual(0);
    } finally {
      sampler.stop();
    }
  });

  it('keeps running when memory cannot be read (EMFILE): the heap from V8, the last resident set, the error reported', async () => {
    const errors: unknown[] = [];
    const sampler = startPressureSampler((err) => errors.push(err));
    try {
      await new Promise((r) => setTimeout(r, 1100));
      const rss = sampler.current().rssBytes;
      const emfile = Object.assign(new Error('EMFILE: too many open files, uv_resident_set_memory'), { code: 'EMFILE' });
      vi.spyOn(process, 'memoryUsage').mockImplementation(() => {
        throw emfile;
      });
      await new Promise((r) => setTimeout(r, 2100));
      expect(errors.length).toBeGreaterThanOrEqual(2);
      expect(errors[0]).toBe(emfile);
      expect(sampler.current().rssBytes).toBe(rss);
      expect(sampler.current().heapUsedBytes).toBeGreaterThan(0);
      vi.restoreAllMocks();
      const failed = errors.length;
      await new Promise((r) => setTimeout(r, 1100));
      expect(errors).toHaveLength(failed);
    } finally {
      sampler.stop();
    }
  });
});
