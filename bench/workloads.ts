import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import {
  firehoseBody,
  lengthPrefixed,
  logsMessage,
  metricStreamRequest,
  sampleDatapoints,
  type CloudWatchDatapoint,
} from '../test/helpers/cloudwatch-fixtures.ts';
import { T0, ecsSpan, lambdaTrace, spansMessage, xraySegmentSpan } from '../test/helpers/span-fixtures.ts';
import { FLEET_KINDS, fleetMember } from './fleet.ts';
import { MiB } from './options.ts';

/** One request the load generator posts over and over: its body, the items in it, and its records (for the baselines). */
export interface Workload {
  readonly body: Buffer;
  readonly items: number;
  readonly records: Buffer[];
}

/** ~1 MiB request of metric-stream records: records of several frames, mixed namespaces, the fleet's resources in turn. */
export function metricsWorkload(account: string): Workload {
  const records: Buffer[] = [];
  let items = 0;
  let size = 0;
  let member = 0;
  const id = { account, region: 'eu-west-1', streamName: 'bench' };
  const ofFleet = (points: CloudWatchDatapoint[]) => points.map((p) => ({ ...p, dimensions: FLEET_KINDS[p.namespace]!.dimensions(fleetMember(member++)) }));
  for (let r = 0; size < 0.75 * MiB; r++) {
    const frames = [40, 25, 60].map((n, i) => metricStreamRequest(id, ofFleet(sampleDatapoints(n, 1_795_000_000_000 + (r * 3 + i) * 60_000))));
    const record = lengthPrefixed(...frames);
    records.push(record);
    items += 125;
    size += record.length;
  }
  return { body: Buffer.from(firehoseBody(records, 'bench-metrics')), items, records };
}

/** A deterministic pseudo-random source in [0, 1] (a linear congruential generator): the same workload every run. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

/** ~1 MiB request of CloudWatch Logs records: gzipped, messages from 60 bytes to 4 KB. */
export function logsWorkload(): Workload {
  const records: Buffer[] = [];
  let items = 0;
  let size = 0;
  const sizes = [60, 120, 250, 500, 1000, 4000];
  // Log text that compresses like real logs (5-10×), not like a repeated word.
  const random = seededRandom(42);
  const words = [
    'GET',
    'POST',
    'user',
    'order',
    'cart',
    'payment',
    'timeout',
    'retry',
    'cache',
    'miss',
    'hit',
    'db',
    'query',
    'ok',
    'error',
    'latency',
    'region',
    'shard',
  ];
  const text = (n: number) => {
    let out = '';
    while (out.length < n) out += random() < 0.3 ? `${Math.floor(random() * 1e9).toString(16)} ` : `${words[Math.floor(random() * words.length)]} `;
    return out.slice(0, n);
  };
  for (let r = 0; size < 0.75 * MiB; r++) {
    const events = Array.from({ length: 100 }, (_, i) => {
      const n = sizes[(r + i) % sizes.length]!;
      const message = `{"level":"info","requestId":"${Math.floor(random() * 1e12).toString(36)}","msg":"${text(n)}","seq":${r * 1000 + i},"ms":${(random() * 500).toFixed(2)}}\n`;
      return { timestamp: 1_795_000_000_000 + r * 1000 + i, message };
    });
    const record = gzipSync(JSON.stringify(logsMessage({ logGroup: `/aws/lambda/fn-${r % 7}`, events })));
    records.push(record);
    items += events.length;
    size += record.length;
  }
  const body = Buffer.from(firehoseBody(records, 'bench-logs'));
  if (process.env.SAVE_LOGS_BODY) writeFileSync(process.env.SAVE_LOGS_BODY, body);
  return { body, items, records };
}

/**
 * ~1 MiB request of aws/spans subscription records (Transaction Search), as a stream of all log groups carries them:
 * 50 spans a record — Lambda traces, ECS and X-Ray spans with their ids and times varied, so that no two are alike.
 */
export function spansWorkload(): Workload {
  const records: Buffer[] = [];
  let items = 0;
  let size = 0;
  const templates = [...lambdaTrace(), ecsSpan(), xraySegmentSpan()];
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0').slice(-width);
  for (let r = 0; size < 0.75 * MiB; r++) {
    const spans = Array.from({ length: 50 }, (_, i) => {
      const n = r * 50 + i + 1;
      const t = templates[n % templates.length]!;
      const start = T0 + BigInt(n) * 1_000_000n;
      return {
        ...t,
        traceId: hex(n, 8) + String(t.traceId).slice(-24),
        spanId: hex(n * 7919, 16),
        startTimeUnixNano: start,
        endTimeUnixNano: start + 5_000_000n,
      };
    });
    const record = gzipSync(JSON.stringify(spansMessage(spans)));
    records.push(record);
    items += spans.length;
    size += record.length;
  }
  return { body: Buffer.from(firehoseBody(records, 'bench-spans')), items, records };
}
