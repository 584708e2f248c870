/**
 * In-process A/B of reading CloudWatch Logs records (gunzipped): JSON.parse of the text against parseCloudWatchLogsJson (large records in pieces),
 * alternating, CPU time, median over rounds. `WORKLOAD=short-logs|logs ROUNDS=40 node bench/logs-parse-ab.ts`
 */
import { gunzipSync } from 'node:zlib';
import { parseCloudWatchLogsJson } from '../src/decode/cloudwatch-logs.ts';
import { shortLogsWorkload } from './short-logs.ts';
import { logsWorkload } from './workloads.ts';

const workload = process.env.WORKLOAD === 'logs' ? logsWorkload() : shortLogsWorkload();
const plain = workload.records.map((r) => gunzipSync(r));
const variants: Record<string, () => number> = {
  'toString+JSON.parse': () => plain.reduce((n, b) => n + (JSON.parse(b.toString('utf8')) as { logEvents: unknown[] }).logEvents.length, 0),
  parseCloudWatchLogsJson: () => plain.reduce((n, b) => n + parseCloudWatchLogsJson(b)[0]!.logEvents.length, 0),
};
const ms: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
const rounds = Number(process.env.ROUNDS ?? 40);
for (let i = 0; i < rounds; i++) {
  const names = i % 2 === 0 ? Object.keys(variants) : Object.keys(variants).reverse();
  for (const name of names) {
    const started = process.cpuUsage();
    const n = variants[name]!();
    const used = process.cpuUsage(started);
    if (n !== workload.items) throw new Error(`${name} read ${n} events, not ${workload.items}`);
    if (i >= 3) ms[name]!.push((used.user + used.system) / 1000);
  }
}
for (const [name, xs] of Object.entries(ms)) {
  xs.sort((a, b) => a - b);
  const median = xs[Math.floor(xs.length / 2)]!;
  console.log(
    `${name.padEnd(20)} median ${median.toFixed(1)} ms a request (${xs[0]!.toFixed(1)}–${xs[xs.length - 1]!.toFixed(1)}), ${((median * 1e6) / workload.items).toFixed(0)} ns an event`,
  );
}
