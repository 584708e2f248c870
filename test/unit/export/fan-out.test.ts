import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import type { ExportRequest, ExportResult, Exporter } from '../../../src/export/exporter.ts';
import { combineResults, createFanOut } from '../../../src/export/fan-out.ts';
import { createExporters } from '../../../src/export/registry.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';
import { metricStreamRequest, sampleDatapoints } from '../../helpers/cloudwatch-fixtures.ts';
import { OtlpSink } from '../../helpers/otlp-sink.ts';

/** A member answering from a script (success once the script is used up), counting its calls. */
function member(...script: ExportResult[]): Exporter & { calls: number; shutdowns: number } {
  return {
    calls: 0,
    shutdowns: 0,
    async export() {
      this.calls++;
      return script.shift() ?? { status: 'success' };
    },
    async shutdown() {
      this.shutdowns++;
    },
  };
}
const request = (batchKey?: string): ExportRequest => ({
  signal: 'logs',
  payload: new Uint8Array(),
  items: 10,
  deadline: Date.now() + 5000,
  ...(batchKey === undefined ? {} : { batchKey }),
});
const busy = (message: string, retryAfterMs?: number): ExportResult => ({
  status: 'retryable',
  message,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});
const refused = (message: string): ExportResult => ({ status: 'permanent', message, httpStatus: 400 });

describe('fan-out of several exporters', () => {
  it('succeeds when every member accepted, and shuts every member down', async () => {
    const a = member();
    const b = member();
    const fan = createFanOut([a, b]);
    expect(await fan.export(request())).toEqual({ status: 'success' });
    expect([a.calls, b.calls]).toEqual([1, 1]);
    await fan.shutdown();
    expect([a.shutdowns, b.shutdowns]).toEqual([1, 1]);
  });

  it('fails as retryable when one member is unavailable, even though another accepted', async () => {
    const fan = createFanOut([member(), member(busy('OTLP logs backend answered 503'))]);
    expect(await fan.export(request())).toEqual({ status: 'retryable', message: 'OTLP logs backend answered 503' });
  });

  it('is retryable when any member is, even if another refused for good, asking for the longest Retry-After', () => {
    expect(combineResults([refused('b answered 400'), busy('c answered 429', 2000), busy('d answered 503', 5000)])).toEqual({
      status: 'retryable',
      message: 'c answered 429',
      retryAfterMs: 5000,
    });
  });

  it('is permanent with the first refusal when no member is retryable', () => {
    expect(combineResults([{ status: 'success' }, refused('b answered 400'), refused('c answered 413')])).toEqual(refused('b answered 400'));
  });

  it('sums the items the members rejected when all accepted', () => {
    expect(
      combineResults([{ status: 'success', rejected: 2, message: 'too old' }, { status: 'success' }, { status: 'success', rejected: 3, message: 'bad unit' }]),
    ).toEqual({ status: 'success', rejected: 5, message: 'too old; bad unit' });
  });

  it('sends a retried batch (same batch key) only to the members that had not accepted it', async () => {
    const accepted = member();
    const failing = member(busy('down'));
    const fan = createFanOut([accepted, failing]);
    expect((await fan.export(request('req-1/0-99'))).status).toBe('retryable');
    expect(await fan.export(request('req-1/0-99'))).toEqual({ status: 'success' });
    expect([accepted.calls, failing.calls]).toEqual([1, 2]);
    // Another batch goes to both.
    await fan.export(request('req-1/100-199'));
    expect([accepted.calls, failing.calls]).toEqual([2, 3]);
  });

  it('sends a batch without a key to every member again (at least once per member)', async () => {
    const accepted = member();
    const failing = member(busy('down'));
    const fan = createFanOut([accepted, failing]);
    await fan.export(request());
    await fan.export(request());
    expect([accepted.calls, failing.calls]).toEqual([2, 2]);
  });

  it('forgets the oldest partly accepted batches beyond its bound, sending those to every member again', async () => {
    const accepted = member();
    const failing = member(busy('down'), busy('down'), busy('down'));
    const fan = createFanOut([accepted, failing], { maxRemembered: 2 });
    for (const key of ['k1', 'k2', 'k3']) await fan.export(request(key));
    await fan.export(request('k1'));
    await fan.export(request('k3'));
    expect(accepted.calls).toBe(4);
  });
});

describe('several exporter types for one signal', () => {
  let sink: OtlpSink;
  beforeEach(async () => {
    sink = await new OtlpSink().start();
  });
  afterEach(() => sink.stop());

  it('sends to each type, retrying only the one that failed: the debug output is written once while the backend is asked twice', async () => {
    sink.respond({ status: 503 });
    const config = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_METRICS_EXPORTERS: 'otlp-http,debug' });
    const debugOutput = new PassThrough();
    let printed = '';
    debugOutput.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const metrics = createMetrics();
    const exporters = createExporters(config, metrics, { debugOutput, retry: { initialBackoffMs: 1 } });
    const payload = metricStreamRequest({ account: '1', region: 'r', streamName: 's' }, sampleDatapoints(2));
    expect(await exporters.metrics.export({ signal: 'metrics', payload, items: 2, deadline: Date.now() + 5000 })).toEqual({ status: 'success' });
    expect(sink.attempts).toBe(2);
    expect(sink.lines('metrics')).toHaveLength(2);
    expect(
      printed
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).metric),
    ).toEqual(sink.lines('metrics').map((line) => line.metric));
    expect(await metrics.registry.getSingleMetricAsString('firetap_export_retries_total')).toMatch(/signal="metrics"\} 1/);
  });
});
