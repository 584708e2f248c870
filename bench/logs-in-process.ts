/**
 * In-process measurement of the logs route's decode (no HTTP, no export): every record of a workload through
 * the logs codec as deliver() runs it, single-threaded, in CPU time — what each per-event pass costs, A/B.
 *
 *   WORKLOAD=short-logs|logs LOG_METRICS=lambda-report,emf|none ROUNDS=20 node bench/logs-in-process.ts
 * (settings in the environment: the workloads read the bench's own flags).
 */
import { OtlpBatch } from '../src/otlp/batch.ts';
import { RECORD_CODECS } from '../src/pipeline/record-codecs.ts';
import { recordContext } from '../test/helpers/record-context.ts';
import { shortLogsWorkload } from './short-logs.ts';
import { logsWorkload } from './workloads.ts';
import { LOG_METRIC_KINDS } from '../src/decode/log-metrics.ts';

const name = process.env.WORKLOAD ?? 'short-logs';
const values = { metrics: process.env.LOG_METRICS ?? LOG_METRIC_KINDS.join(','), rounds: process.env.ROUNDS ?? '20' };
const workload = name === 'logs' ? logsWorkload() : shortLogsWorkload();
const data = workload.records.map((r) => r.toString('base64'));
const metrics = values.metrics.split(',') as Array<(typeof LOG_METRIC_KINDS)[number] | 'none'>;

async function once(): Promise<number> {
  const ctx = recordContext({ derived: new OtlpBatch(), spans: new OtlpBatch() }, { metrics });
  const batch = new OtlpBatch(16 * 1024 * 1024);
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

const ms: number[] = [];
for (let i = 0; i < Number(values.rounds); i++) ms.push(await once());
ms.sort((a, b) => a - b);
const median = ms[Math.floor(ms.length / 2)]!;
console.log(
  `${name} metrics=${values.metrics}: ${workload.items} events, median ${median.toFixed(1)} ms CPU a request (${ms[0]!.toFixed(1)}–${ms[ms.length - 1]!.toFixed(1)}), ${Math.round((workload.items / median) * 1000)} events per CPU second, ${((median * 1e6) / workload.items).toFixed(0)} ns an event`,
);
