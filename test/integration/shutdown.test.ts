import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { startService } from '../helpers/service.ts';
import { firehoseBody, firehoseHeaders, lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';

const MAIN = resolve(import.meta.dirname, '../../src/main.ts');
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
});

describe('shutdown', () => {
  it('on SIGTERM turns unready, finishes and delivers the request in flight, then exits 0', async () => {
    const sink = await new OtlpSink().start();
    sink.always({ status: 200, delayMs: 1500 });
    const svc = await startService({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_SHUTDOWN_DELAY_MS: '500' });
    child = svc.child;
    const id = { account: '123456789012', region: 'eu-west-1', streamName: 's' };
    const inFlight = fetch(`${svc.base}/firehose/metrics`, {
      method: 'POST',
      headers: firehoseHeaders('in-flight'),
      body: firehoseBody([lengthPrefixed(metricStreamRequest(id, sampleDatapoints(5)))], 'in-flight'),
    });
    while (sink.attempts === 0) await new Promise((r) => setTimeout(r, 10));

    child!.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const ready = await fetch(`${svc.base}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${svc.base}/healthz`)).status).toBe(200);

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ requestId: 'in-flight' });
    expect(sink.lines('metrics')).toHaveLength(5);
    const code = await Promise.race([svc.exited, new Promise((r) => setTimeout(() => r('timeout'), 8000))]);
    if (code !== 0) console.log(svc.output());
    expect(code).toBe(0);
    expect(svc.output()).toContain('shut down');
    await sink.stop();
  });

  it('refuses to start on a bad setting, naming it, with exit code 2', async () => {
    child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr).toContain('PORT:');
    expect(stderr).toContain('"eighty"');
  });
});

describe('shutdown under load', () => {
  it('delivers every acknowledged request, refuses the rest with a retryable answer, and exits 0', async () => {
    const sink = await new OtlpSink().start();
    sink.always({ status: 200, delayMs: 30 });
    const svc = await startService({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_SHUTDOWN_DELAY_MS: '200' });
    child = svc.child;
    const id = { account: '123456789012', region: 'eu-west-1', streamName: 's' };
    const acknowledged: string[] = [];
    const refused: number[] = [];
    let stop = false;
    const sender = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const requestId = `w${w}-${i}`;
        const points = sampleDatapoints(3).map((p, k) => ({ ...p, dimensions: { QueueName: `${requestId}-${k}` }, namespace: 'AWS/SQS' }));
        try {
          const res = await fetch(`${svc.base}/firehose/metrics`, {
            method: 'POST',
            headers: firehoseHeaders(requestId),
            body: firehoseBody([lengthPrefixed(metricStreamRequest(id, points))], requestId),
            signal: AbortSignal.timeout(10_000),
          });
          await res.arrayBuffer();
          if (res.status === 200) acknowledged.push(requestId);
          else refused.push(res.status);
        } catch (err) {
          if ((err as Error).name === 'TimeoutError') throw new Error('a request hung during shutdown');
          refused.push(0); // connection refused or closed: Firehose retries elsewhere
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const senders = Array.from({ length: 4 }, (_, w) => sender(w));
    await new Promise((r) => setTimeout(r, 400));
    child!.kill('SIGTERM');
    const code = await svc.exited;
    stop = true;
    await Promise.all(senders);
    expect(code).toBe(0);
    expect(acknowledged.length).toBeGreaterThan(4);
    const delivered = new Set(sink.lines('metrics').map((l) => String(l.attributes.QueueName).replace(/-\d+$/, '')));
    expect(acknowledged.filter((r) => !delivered.has(r))).toEqual([]);
    expect(refused.every((s) => s === 0 || s === 503)).toBe(true);
    await sink.stop();
  });
});
