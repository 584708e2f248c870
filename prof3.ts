import { gzipSync } from 'node:zlib';
import { startCountingSink, startService } from './bench/service.ts';
import { firehoseBody, firehoseHeaders, logsMessage } from './test/helpers/cloudwatch-fixtures.ts';
const records: Buffer[] = []; let size = 0; const sizes = [60, 120, 250, 500, 1000, 4000];
for (let r = 0; size < 0.75 * 1024 * 1024; r++) {
  const events = Array.from({ length: 200 }, (_, i) => ({ timestamp: 1_795_000_000_000 + i, message: `{"level":"info","requestId":"${r}-${i}","msg":"${'payload '.repeat(Math.ceil(sizes[(r + i) % 6]! / 8)).slice(0, sizes[(r + i) % 6])}","seq":${r * 1000 + i}}` }));
  const rec = gzipSync(JSON.stringify(logsMessage({ logGroup: `/aws/lambda/fn-${r % 7}`, events }))); records.push(rec); size += rec.length;
}
const body = firehoseBody(records, 'p');
const sink = await startCountingSink();
const svc = await startService({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_LOG_LEVEL: 'info' });
const t0 = performance.now();
await Promise.all(Array.from({ length: 4 }, async (_, w) => { for (let i = 0; i < 4; i++) { const r = await fetch(svc.base + '/firehose/logs', { method: 'POST', headers: firehoseHeaders(`p${w}-${i}`), body }); await r.arrayBuffer(); } }));
console.log('16 requests', ((performance.now() - t0) / 1000).toFixed(1), 's', 'sink MB', (sink.bytes() / 1e6).toFixed(0), 'records', records.length);
svc.child.kill('SIGINT'); await new Promise((r) => setTimeout(r, 1500)); sink.close();
