import { describe, expect, it } from 'vitest';
import type { ExportRequest, ExportResult, Exporter } from '../../../src/export/exporter.ts';
import { ExportWindow } from '../../../src/pipeline/export-window.ts';
import { createMetrics, type Metrics } from '../../../src/telemetry/metrics.ts';

/** An exporter whose exports settle only when the test says so, and that counts how many are open at once. */
function heldExporter() {
  const open: Array<{ request: ExportRequest; settle: (result: ExportResult) => void }> = [];
  let peak = 0;
  const exporter: Exporter = {
    export: (request) =>
      new Promise<ExportResult>((resolve) => {
        const entry = {
          request,
          settle: (result: ExportResult) => {
            open.splice(open.indexOf(entry), 1);
            resolve(result);
          },
        };
        open.push(entry);
        peak = Math.max(peak, open.length);
      }),
    shutdown: async () => {},
  };
  return { exporter, open, peak: () => peak };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function value(metrics: Metrics, name: 'exports' | 'items' | 'exportsInFlight', labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metrics[name].get();
  return values.filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l)).reduce((a, v) => a + v.value, 0);
}

describe('the export window of a request', () => {
  it('never has more than its concurrency in flight, and start() waits until one settles', async () => {
    const metrics = createMetrics();
    const { exporter, open, peak } = heldExporter();
    const window = new ExportWindow(metrics, Date.now() + 5000, 2);
    const send = async (items: number) => {
      await window.export(exporter, 'logs', new Uint8Array(1), items);
    };

    await window.start(send(1));
    const second = window.start(send(2));
    let secondReturned = false;
    void second.then(() => (secondReturned = true));
    await turn();
    expect(open).toHaveLength(2);
    expect(secondReturned).toBe(false);
    expect(await value(metrics, 'exportsInFlight')).toBe(2);

    open[0]!.settle({ status: 'success' });
    await second;
    const third = window.start(send(3));
    await turn();
    expect(open).toHaveLength(2);
    for (const e of [...open]) e.settle({ status: 'success' });
    await third;
    await window.drain();
    expect(peak()).toBe(2);
    expect(await value(metrics, 'exportsInFlight')).toBe(0);
    expect(window.failure).toBeUndefined();
  });

  it('counts each export by outcome, with its duration, and the items of the accepted ones only', async () => {
    const metrics = createMetrics();
    const { exporter, open } = heldExporter();
    const window = new ExportWindow(metrics, Date.now() + 5000, 4);
    const results = [window.export(exporter, 'metrics', new Uint8Array(1), 10), window.export(exporter, 'metrics', new Uint8Array(1), 7)];
    await turn();
    expect(open.map((e) => e.request.items)).toEqual([10, 7]);
    expect(open[0]!.request.deadline).toBeGreaterThan(Date.now());
    open[1]!.settle({ status: 'retryable', message: 'metrics export: backend answered 503' });
    open[0]!.settle({ status: 'success' });
    expect((await Promise.all(results)).map((r) => r.status)).toEqual(['success', 'retryable']);

    expect(await value(metrics, 'exports', { signal: 'metrics', outcome: 'success' })).toBe(1);
    expect(await value(metrics, 'exports', { signal: 'metrics', outcome: 'retryable' })).toBe(1);
    expect(await value(metrics, 'items', { signal: 'metrics', stage: 'exported' })).toBe(10);
    const durations = (await metrics.exportDuration.get()).values.filter((v) => v.metricName === 'firetap_export_duration_seconds_count');
    expect(durations.reduce((a, v) => a + v.value, 0)).toBe(2);
    expect(await value(metrics, 'exportsInFlight')).toBe(0);
  });

  it('keeps the first failure, and makes an export that throws a retryable internal one', async () => {
    const metrics = createMetrics();
    const window = new ExportWindow(metrics, Date.now() + 5000, 2);
    await window.start(Promise.reject(new Error('socket went away')));
    await window.drain();
    expect(window.failure).toMatchObject({ code: 'FIRETAP_INTERNAL', retryable: true, message: 'export failed unexpectedly: socket went away' });

    const first = window.failure;
    await window.start(Promise.reject(new Error('later')));
    await window.drain();
    expect(window.failure).toBe(first);
  });
});
