import { gzipSync } from 'node:zlib';
import { firehoseBody, logsMessage } from '../test/helpers/cloudwatch-fixtures.ts';
import { MiB } from './options.ts';
import { seededRandom, type Workload } from './workloads.ts';

/** Events in one CloudWatch Logs record of the short-lines workload (a subscription batches what a stream wrote). */
const EVENTS_PER_RECORD = 1000;

/**
 * ~1 MiB request of the logs most Lambda and ECS users have: short lines (100–300 B messages) that compress ~15×,
 * tens of thousands of events a request. Each invocation writes START, a few application lines and END; one in
 * ten a REPORT, so the log-line metrics pass sees the lines it looks for as often as a real function's logs hold them.
 */
export function shortLogsWorkload(): Workload {
  const records: Buffer[] = [];
  let items = 0;
  let size = 0;
  const random = seededRandom(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const paths = ['/api/orders', '/api/cart', '/api/users/me', '/health', '/api/payments', '/api/search'];
  const lines = [
    (id: string) => `{"level":"info","requestId":"${id}","msg":"request handled","path":"${pick(paths)}","status":200,"ms":${(random() * 80).toFixed(1)}}`,
    (id: string) => `{"level":"debug","requestId":"${id}","msg":"cache ${random() < 0.8 ? 'hit' : 'miss'}","key":"user:${Math.floor(random() * 5000)}"}`,
    (id: string) =>
      `{"level":"info","requestId":"${id}","msg":"db query","table":"orders","rows":${Math.floor(random() * 50)},"ms":${(random() * 20).toFixed(2)}}`,
    (id: string) =>
      `{"level":"warn","requestId":"${id}","msg":"retrying downstream call","service":"inventory","attempt":${1 + Math.floor(random() * 3)},"error":"ETIMEDOUT"}`,
    (id: string) =>
      `{"level":"info","requestId":"${id}","msg":"published event","topic":"order-events","partition":${Math.floor(random() * 12)},"offset":${Math.floor(random() * 1e7)}}`,
  ];
  let time = 1_795_000_000_000;
  let serial = 0;
  for (let r = 0; size < 0.75 * MiB; r++) {
    const events: Array<{ id: string; timestamp: number; message: string }> = [];
    const push = (message: string) => {
      time += Math.floor(random() * 3);
      // CloudWatch Logs event ids: 56 digits, consecutive events' sharing most of them.
      events.push({ id: `${String(time).padStart(20, '0')}${String(serial++).padStart(36, '0')}`, timestamp: time, message: `${message}\n` });
    };
    while (events.length < EVENTS_PER_RECORD) {
      const id = `${Math.floor(random() * 0xffffffff)
        .toString(16)
        .padStart(8, '0')}-4b1c-4d5e-9f00-${Math.floor(random() * 1e12)
        .toString(16)
        .padStart(12, '0')}`;
      push(`START RequestId: ${id} Version: $LATEST`);
      for (let n = 2 + Math.floor(random() * 6); n > 0; n--) push(`${new Date(time).toISOString()}\t${id}\tINFO\t${pick(lines)(id)}`);
      push(`END RequestId: ${id}`);
      if (random() < 0.1) {
        const ms = (random() * 200).toFixed(2);
        push(
          `REPORT RequestId: ${id}\tDuration: ${ms} ms\tBilled Duration: ${Math.ceil(Number(ms))} ms\tMemory Size: 512 MB\tMax Memory Used: ${60 + Math.floor(random() * 40)} MB\t`,
        );
      }
    }
    const record = gzipSync(
      JSON.stringify(logsMessage({ logGroup: `/aws/lambda/fn-${r % 5}`, logStream: `2026/12/08/[$LATEST]${r.toString(16).padStart(32, '0')}`, events })),
    );
    records.push(record);
    items += events.length;
    size += record.length;
  }
  return { body: Buffer.from(firehoseBody(records, 'bench-short-logs')), items, records };
}
