import { describe, expect, it } from 'vitest';
import type { ExportRequest, ExportResult, Exporter } from '../../../src/export/exporter.ts';
import { createRetryingExporter } from '../../../src/export/retrying.ts';
import { createConcurrencyLimit } from '../../../src/export/concurrency-limit.ts';

function scripted(results: ExportResult[], delayMs = 0): Exporter & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    async export() {
      calls.push(Date.now());
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return results.shift() ?? { status: 'success' };
    },
    async shutdown() {},
  };
}
const request = (deadlineInMs: number): ExportRequest => ({ signal: 'logs', payload: new Uint8Array(), items: 1, deadline: Date.now() + deadlineInMs });
const busy: ExportResult = { status: 'retryable', message: 'busy' };

describe('RetryingExporter', () => {
  it('retries retryable failures until the backend recovers', async () => {
    const inner = scripted([busy, busy, busy]);
    const retries: number[] = [];
    const e = createRetryingExporter(inner, { initialBackoffMs: 5, onRetry: (_r, _res, d) => retries.push(d) });
    expect(await e.export(request(5000))).toEqual({ status: 'success' });
    expect(inner.calls).toHaveLength(4);
    expect(retries).toHaveLength(3);
  });

  it('does not retry a permanent failure', async () => {
    const inner = scripted([{ status: 'permanent', message: 'bad' }]);
    expect(await createRetryingExporter(inner).export(request(5000))).toEqual({ status: 'permanent', message: 'bad' });
    expect(inner.calls).toHaveLength(1);
  });

  it('waits at least as long as Retry-After asks', async () => {
    const inner = scripted([{ ...busy, retryAfterMs: 300 }]);
    await createRetryingExporter(inner, { initialBackoffMs: 1 }).export(request(5000));
    expect(inner.calls[1]! - inner.calls[0]!).toBeGreaterThanOrEqual(290);
  });

  it('gives up with the last failure when the next try could not start before the deadline', async () => {
    const inner = scripted(Array.from({ length: 100 }, () => busy));
    const result = await createRetryingExporter(inner, { initialBackoffMs: 50 }).export(request(400));
    expect(result).toMatchObject({ status: 'retryable', message: expect.stringContaining('delivery deadline reached') });
    expect(inner.calls.length).toBeGreaterThan(1);
    expect(Date.now() - inner.calls[0]!).toBeLessThan(1000);
  });

  it('stops at once when Retry-After is longer than the time left', async () => {
    const inner = scripted([{ ...busy, retryAfterMs: 60_000 }]);
    const result = await createRetryingExporter(inner).export(request(2000));
    expect(result.status).toBe('retryable');
    expect(inner.calls).toHaveLength(1);
  });
});

describe('ConcurrencyLimit', () => {
  it('never lets more exports run at once than the limit, across exporters', async () => {
    const limit = createConcurrencyLimit(2);
    let running = 0;
    let peak = 0;
    const slow: Exporter = {
      async export() {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return { status: 'success' };
      },
      async shutdown() {},
    };
    const a = limit.wrap(slow);
    const b = limit.wrap(slow);
    const results = await Promise.all([a, b, a, b, a, b].map((e) => e.export(request(5000))));
    expect(results.every((r) => r.status === 'success')).toBe(true);
    expect(peak).toBe(2);
    expect(limit.inFlight()).toBe(0);
  });

  it('answers retryable when no slot frees up before the deadline', async () => {
    const limit = createConcurrencyLimit(1);
    const e = limit.wrap(scripted([], 300));
    const first = e.export(request(5000));
    expect(await e.export(request(50))).toMatchObject({ status: 'retryable', message: expect.stringContaining('export slots stayed busy') });
    expect((await first).status).toBe('success');
    expect(limit.inFlight()).toBe(0);
  });
});
