/**
 * In-process A/B of the logs route's decode (no HTTP, no export): every record of a workload through the logs codec
 * as deliver() runs it, single-threaded apart from the gunzip (libuv's pool, as in the service), CPU time of the
 * process, alternating the log-metrics pass on (the default) and off, median over rounds.
 *
 *   WORKLOAD=short-logs|logs ROUNDS=30 node bench/logs-in-process.ts
 * (settings in the environment: the workloads read the bench's own flags).
 */
import { LOG_METRIC_KINDS } from '../src/decode/log-metrics.ts';
import { OtlpBatch } from '../src/otlp/batch.ts';
import { RECORD_CODECS } from '../src/pipeline/record-codecs.ts';
import { recordContext } from '../test/helpers/record-context.ts';
import { shortLogsWorkload } from './short-logs.ts';
import { logsWorkload } from './workloads.ts';

const name = process.env.WORKLOAD ?? 'short-logs';
const workload = name === 'logs' ? logsWorkload() : shortLogsWorkload();
const data = workload.records.map((r) => r.toString('base64'));
const variants = { 'log metrics on': [...LOG_METRIC_KINDS], 'log metrics none': ['none' as const] };

// One batch for every round, as the service's come from its buffer pool: a fresh 16 MiB buffer a round brings
// V8's external-memory collections that the service does not have.
const batch = new OtlpBatch(16 * 1024 * 1024);

async function once(metrics: Array<(typeof LOG_METRIC_KINDS)[number] | 'none'>): Promise<number> {
  const ctx = recordContext({ derived: new OtlpBatch(), spans: new OtlpBatch() }, { metrics });
  batch.clear();
  const started = process.cpuUsage();
  for (const d of data) {
    let next = await RECORD_CODECS.logs(d, batch, ctx);
    while (next) {
      batch.clear();
      next = next();
    }
  }
  const used = process.cpuUsage(started);
  if (batch.items === 0 && workload.items > 0) throw new Error('nothing written');
  return (used.user + used.system) / 1000;
}

const ms: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const rounds = Number(process.env.ROUNDS ?? 30);
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? Object.entries(variants) : Object.entries(variants).reverse();
  for (const [k, metrics] of order) {
    const t = await once(metrics);
    if (i >= 3) ms[k]!.push(t);
  }
}
for (const [k, xs] of Object.entries(ms)) {
  xs.sort((a, b) => a - b);
  const median = xs[Math.floor(xs.length / 2)]!;
  console.log(
    `${name} ${k}: ${workload.items} events, median ${median.toFixed(1)} ms CPU a request (${xs[0]!.toFixed(1)}–${xs[xs.length - 1]!.toFixed(1)}), ${Math.round((workload.items / median) * 1000)} events per CPU second, ${((median * 1e6) / workload.items).toFixed(0)} ns an event`,
  );
}
