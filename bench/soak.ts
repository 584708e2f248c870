/**
 * The long form of the reliability suites, with figures (the short forms run in `npm test`):
 *
 *   npm run soak -- [--fuzz-inputs 1000000] [--seconds 10]
 *
 * 1. fuzzing: every decoder over mutated real inputs and random bytes;
 * 2. backend outage: Firehose-like senders (same request id, exponential backoff) while the backend is down;
 * 3. overload: far more concurrent requests than admitted;
 * 4. shutdown under load: SIGTERM to the real process while senders keep sending;
 * 5. unauthenticated flood: large bodies without a valid key.
 * Traffic stays on 127.0.0.1; every phase stops by itself.
 */
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import {
  firehoseBody,
  firehoseHeaders,
  lengthPrefixed,
  metricStreamRequest,
  sampleDatapoints,
  type CloudWatchDatapoint,
} from '../test/helpers/cloudwatch-fixtures.ts';
import { sendLikeFirehose } from '../test/helpers/firehose-client.ts';
import { OtlpSink } from '../test/helpers/otlp-sink.ts';
import { TARGETS, fuzz } from '../test/fuzz/targets.ts';
import { imageEnv, startService } from '../test/helpers/service.ts';
import { compiledEntry, processStats, startCountingSink } from './service.ts';

/** The compiled service, as the image runs it. */
const ENTRY = compiledEntry();

const { values: args } = parseArgs({ options: { 'fuzz-inputs': { type: 'string', default: '1000000' }, seconds: { type: 'string', default: '10' } } });
const seconds = Number(args.seconds);
const figures: Record<string, unknown> = {};
const id = { account: '123456789012', region: 'eu-west-1', streamName: 'soak' };
const MiB = 1024 * 1024;

/** A request of distinct data points: QueueName = `<requestId>-<n>`. */
function request(requestId: string, points = 12): string {
  const dps: CloudWatchDatapoint[] = sampleDatapoints(points).map((p, n) => ({ ...p, namespace: 'AWS/SQS', dimensions: { QueueName: `${requestId}-${n}` } }));
  return firehoseBody([lengthPrefixed(metricStreamRequest(id, dps.slice(0, points / 2)), metricStreamRequest(id, dps.slice(points / 2)))], requestId);
}

async function app(env: Record<string, string>) {
  const firetap = await buildApp(loadConfig({ FIRETAP_LOG_LEVEL: 'warn', ...env }), { logStream: new PassThrough().resume() });
  await firetap.app.listen({ port: 0, host: '127.0.0.1' });
  return { ...firetap, base: `http://127.0.0.1:${(firetap.app.server.address() as { port: number }).port}` };
}

const post =
  (base: string) =>
  async (requestId: string, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/firehose/metrics`, {
      method: 'POST',
      headers: firehoseHeaders(requestId, headers),
      body,
      signal: AbortSignal.timeout(60_000),
    });
    await res.arrayBuffer();
    return { statusCode: res.status };
  };

async function fuzzPhase() {
  const total = Number(args['fuzz-inputs']);
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const perTarget = [];
  for (const [i, t] of TARGETS.entries()) perTarget.push(await fuzz(t, Math.ceil(total / TARGETS.length), Date.now() + i));
  global.gc?.();
  figures.fuzz = {
    inputs: perTarget.reduce((n, f) => n + f.inputs, 0),
    seconds: +((performance.now() - started) / 1000).toFixed(1),
    uncaughtExceptions: 0,
    heapGrowthMiB: +((process.memoryUsage().heapUsed - heapBefore) / MiB).toFixed(1),
    targets: perTarget,
  };
}

async function outagePhase() {
  const sink = await new OtlpSink().start();
  const t = await app({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_REQUEST_TIMEOUT_MS: '1000', FIRETAP_EXPORT_MAX_BATCH_BYTES: '4000' });
  const outageMs = Math.max(3000, (seconds * 1000) / 2);
  let exports = 0;
  let downFrom = 0;
  // Down after the 20th export for outageMs: requests in flight then have delivered part of their batches.
  sink.decideBy(() => {
    if (++exports === 20) downFrom = Date.now();
    return downFrom && Date.now() - downFrom < outageMs ? { status: 503 } : undefined;
  });
  const senders = 8;
  const perSender = 20;
  const acknowledgedIds: string[] = [];
  const results = await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      const out = [];
      for (let i = 0; i < perSender; i++) {
        const requestId = `out-${s}-${i}`;
        const r = await sendLikeFirehose(post(t.base), requestId, request(requestId), { baseDelayMs: 100, maxDelayMs: 2000, retryDurationMs: 120_000 });
        if (r.acknowledged) acknowledgedIds.push(requestId);
        out.push(r);
      }
      return out;
    }),
  );
  const all = results.flat();
  const delivered = sink.lines('metrics').map((l) => String(l.attributes.QueueName));
  const sent = all.length * 12;
  const metricsText = await (await fetch(`${t.base}/metrics`)).text();
  figures.outage = {
    outageSeconds: outageMs / 1000,
    requests: all.length,
    acknowledged: all.filter((r) => r.acknowledged).length,
    attempts: all.reduce((n, r) => n + r.attempts, 0),
    // A request acknowledged before all its data points reached the backend would show here.
    acknowledgedButNotDelivered: acknowledgedIds.filter((r) => !Array.from({ length: 12 }, (_, n) => `${r}-${n}`).every((q) => delivered.includes(q))).length,
    datapointsSent: sent,
    datapointsDelivered: new Set(delivered).size,
    duplicates: delivered.length - new Set(delivered).size,
    skippedOnRetry: Number(/firetap_items_skipped_total\{signal="metrics"\} (\d+)/.exec(metricsText)?.[1] ?? 0),
  };
  await t.app.close();
  await sink.stop();
}

async function overloadPhase() {
  const sink = await startCountingSink({ delayMs: 50 });
  const svc = await startService({ ...imageEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_MAX_CONCURRENT_REQUESTS: '16' }, /firetap ready/, ENTRY);
  const body = request('load', 60);
  const until = Date.now() + seconds * 1000;
  const counts = { ok: 0, shed: 0, other: 0 };
  let maxInFlight = 0;
  const healthMs: number[] = [];
  const sampler = setInterval(async () => {
    const m = /firetap_requests_in_flight (\d+)/.exec(await (await fetch(`${svc.base}/metrics`)).text());
    maxInFlight = Math.max(maxInFlight, Number(m?.[1] ?? 0));
    const started = performance.now();
    await fetch(`${svc.base}/healthz`);
    healthMs.push(performance.now() - started);
  }, 50);
  await Promise.all(
    Array.from({ length: 64 }, async (_, c) => {
      for (let i = 0; Date.now() < until; i++) {
        const { statusCode } = await post(svc.base)(`ol-${c}-${i}`, body);
        if (statusCode === 200) counts.ok++;
        else if (statusCode === 503) counts.shed++;
        else counts.other++;
      }
    }),
  );
  clearInterval(sampler);
  healthMs.sort((a, b) => a - b);
  const after = await post(svc.base)('after-load', request('after-load'));
  const total = counts.ok + counts.shed + counts.other;
  figures.overload = {
    clients: 64,
    admitted: 16,
    requests: total,
    ok: counts.ok,
    shed503: counts.shed,
    other: counts.other,
    shedRate: +(counts.shed / total).toFixed(3),
    maxInFlight,
    servicePeakRssMiB: Math.round(processStats(svc.child.pid!).peakRssMb),
    healthzP99Ms: +(healthMs[Math.floor(healthMs.length * 0.99)] ?? 0).toFixed(1),
    recoveredStatus: after.statusCode,
  };
  svc.child.kill('SIGTERM');
  sink.close();
}

async function shutdownPhase() {
  const sink = await new OtlpSink().start();
  sink.always({ status: 200, delayMs: 20 });
  const svc = await startService({ ...imageEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_SHUTDOWN_DELAY_MS: '500' }, /firetap ready/, ENTRY);
  const { child, base } = svc;
  const acknowledged: string[] = [];
  const refused: Record<string, number> = {};
  let stop = false;
  let hung = 0;
  const senders = Array.from({ length: 16 }, async (_, s) => {
    for (let i = 0; !stop; i++) {
      const requestId = `sd-${s}-${i}`;
      try {
        const { statusCode } = await post(base)(requestId, request(requestId));
        if (statusCode === 200) acknowledged.push(requestId);
        else refused[statusCode] = (refused[statusCode] ?? 0) + 1;
      } catch (err) {
        if ((err as Error).name === 'TimeoutError') hung++;
        refused.connection = (refused.connection ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  await new Promise((r) => setTimeout(r, Math.min(5000, (seconds * 1000) / 2)));
  const signalled = Date.now();
  child.kill('SIGTERM');
  const code = await svc.exited;
  const exitMs = Date.now() - signalled;
  stop = true;
  await Promise.all(senders);
  const delivered = new Set(sink.lines('metrics').map((l) => String(l.attributes.QueueName).replace(/-\d+$/, '')));
  figures.shutdown = {
    senders: 16,
    acknowledged: acknowledged.length,
    acknowledgedButNotDelivered: acknowledged.filter((r) => !delivered.has(r)).length,
    refused,
    hungRequests: hung,
    exitCode: code,
    exitSecondsAfterSigterm: +(exitMs / 1000).toFixed(2),
  };
  await sink.stop();
}

async function floodPhase() {
  const sink = await startCountingSink();
  const svc = await startService({ ...imageEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_ACCESS_KEYS: 'the-key' }, /firetap ready/, ENTRY);
  const body = firehoseBody(
    Array.from({ length: 40 }, () => lengthPrefixed(metricStreamRequest(id, sampleDatapoints(200)))),
    'flood',
  );
  /** The service's CPU time per request, from /proc. */
  const run = async (headers: (i: number) => Record<string, string>) => {
    const before = processStats(svc.child.pid!).cpuSeconds;
    let n = 0;
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        for (let i = 0; i < 50; i++) {
          await post(svc.base)(`fl-${c}-${i}-${Math.random()}`, body, headers(i));
          n++;
        }
      }),
    );
    return { n, cpuMsPerRequest: ((processStats(svc.child.pid!).cpuSeconds - before) * 1000) / n };
  };
  const flood = await run((i): Record<string, string> => (i % 2 ? { 'x-amz-firehose-access-key': `guess-${i}` } : {}));
  const text = await (await fetch(`${svc.base}/metrics`)).text();
  const exportsDuringFlood = (await sink.counts()).requests;
  // The same requests with the key, for comparison.
  const authenticated = await run(() => ({ 'x-amz-firehose-access-key': 'the-key' }));
  figures.unauthenticatedFlood = {
    requests: flood.n,
    bodyMiB: +(body.length / MiB).toFixed(2),
    status401: Number(/firetap_requests_total\{route="\/firehose\/metrics",status="401"\} (\d+)/.exec(text)?.[1] ?? 0),
    recordsDecoded: Number(/firetap_records_total\{signal="metrics"\} (\d+)/.exec(text)?.[1] ?? 0),
    exportsSent: exportsDuringFlood,
    serviceCpuMsPerRequest: +flood.cpuMsPerRequest.toFixed(2),
    authenticatedServiceCpuMsPerRequest: +authenticated.cpuMsPerRequest.toFixed(2),
  };
  svc.child.kill('SIGTERM');
  sink.close();
}

await fuzzPhase();
console.log('fuzz', JSON.stringify(figures.fuzz));
await outagePhase();
console.log('outage', JSON.stringify(figures.outage));
await overloadPhase();
console.log('overload', JSON.stringify(figures.overload));
await shutdownPhase();
console.log('shutdown', JSON.stringify(figures.shutdown));
await floodPhase();
console.log('unauthenticated flood', JSON.stringify(figures.unauthenticatedFlood));
console.log(JSON.stringify({ soak: 'firetap', node: process.version, ...figures }));
