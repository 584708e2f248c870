/**
 * End-to-end benchmark: starts firetap (compiled, node dist/main.js) as a child process with a loopback OTLP sink,
 * posts realistic Firehose requests with a fixed number in flight, and prints throughput (counted
 * only for requests acknowledged with 200), latency percentiles, the service's peak RSS and CPU time.
 *
 *   npm run bench -- [--duration 10] [--concurrency 8] [--compression none|gzip] [--only metrics|logs]
 *                    [--attributes-on datapoint|resource] [--decode-threads N (default: the service's)]
 *
 * All traffic stays on 127.0.0.1, and every phase stops by itself after --duration seconds.
 */
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  firehoseBody,
  firehoseHeaders,
  lengthPrefixed,
  logsMessage,
  metricStreamRequest,
  sampleDatapoints,
  type CloudWatchDatapoint,
} from '../test/helpers/cloudwatch-fixtures.ts';
import { FakeAws, type FakeResource } from '../test/helpers/fake-aws.ts';
import { gunzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { lengthPrefixedFrames } from '../src/decode/length-prefixed.ts';
import { otlpTypes } from '../src/otlp/schema.ts';
import { imageEnv, imageNodeFlags, startService } from '../test/helpers/service.ts';
import { compiledEntry, processStats, startCountingSink } from './service.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    compression: { type: 'string', default: 'none' },
    only: { type: 'string' },
    'attributes-on': { type: 'string', default: 'datapoint' },
    'decode-threads': { type: 'string' },
  },
});
const durationMs = Number(args.duration) * 1000;
const concurrency = Number(args.concurrency);

const MiB = 1024 * 1024;
/** Service slices alternate with baseline slices in this many rounds per workload. */
const ROUNDS = 8;
/** Idle time before a round's baselines. */
const SETTLE_MS = 300;

/**
 * The resources the metric workload's data points name: FLEET of each of six kinds (EC2 instance, RDS
 * instance, Lambda function, ALB target group, SQS queue, DynamoDB table), so that one request names
 * hundreds of distinct resources, as a real account's stream does — not the same six over and over.
 */
const FLEET = 400;
const FLEET_KINDS: Record<string, { service: string; resource: (m: string) => string; dimensions: (m: string) => Record<string, string> }> = {
  'AWS/EC2': { service: 'ec2', resource: (m) => `instance/i-0abc1234def56${m}`, dimensions: (m) => ({ InstanceId: `i-0abc1234def56${m}` }) },
  'AWS/RDS': { service: 'rds', resource: (m) => `db:orders-${m}`, dimensions: (m) => ({ DBInstanceIdentifier: `orders-${m}` }) },
  'AWS/Lambda': { service: 'lambda', resource: (m) => `function:checkout-${m}`, dimensions: (m) => ({ FunctionName: `checkout-${m}`, Resource: `checkout-${m}` }) },
  'AWS/ApplicationELB': {
    service: 'elasticloadbalancing', resource: (m) => `targetgroup/web-${m}/73e2d6bc24d8a067`,
    dimensions: (m) => ({ LoadBalancer: `app/web-${m}/50dc6c495c0c9188`, TargetGroup: `targetgroup/web-${m}/73e2d6bc24d8a067` }),
  },
  'AWS/SQS': { service: 'sqs', resource: (m) => `orders-${m}`, dimensions: (m) => ({ QueueName: `orders-${m}` }) },
  'AWS/DynamoDB': { service: 'dynamodb', resource: (m) => `table/sessions-${m}`, dimensions: (m) => ({ TableName: `sessions-${m}` }) },
};
const fleetMember = (k: number) => (k % FLEET).toString().padStart(4, '0');

/** ~1 MiB request of metric-stream records: records of several frames, mixed namespaces, the fleet's resources in turn. */
function metricsWorkload(account: string): { body: Buffer; items: number; records: Buffer[] } {
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

/** ~1 MiB request of CloudWatch Logs records: gzipped, messages from 60 bytes to 4 KB. */
function logsWorkload(): { body: Buffer; items: number; records: Buffer[] } {
  const records: Buffer[] = [];
  let items = 0;
  let size = 0;
  const sizes = [60, 120, 250, 500, 1000, 4000];
  // A deterministic pseudo-random source: log text that compresses like real logs (5-10×), not like a repeated word.
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const words = ['GET', 'POST', 'user', 'order', 'cart', 'payment', 'timeout', 'retry', 'cache', 'miss', 'hit', 'db', 'query', 'ok', 'error', 'latency', 'region', 'shard'];
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
  const body = Buffer.from(firehoseBody(records, "bench-logs"));
  if (process.env.SAVE_LOGS_BODY) writeFileSync(process.env.SAVE_LOGS_BODY, body);
  return { body, items, records };
}


/**
 * A loopback AWS holding the resources the workload's data points name (account ENRICHED): data points of
 * that account are enriched, those of account PLAIN find no snapshot and pass through — the same run
 * measures both paths.
 */
const ENRICHED = '123456789012';
const PLAIN = '999999999999';
async function startAws(): Promise<FakeAws> {
  const aws = await new FakeAws().start();
  aws.pageSize = 100;
  aws.addAccount(ENRICHED, 'AKIDBENCH');
  const tags = { team: 'payments', env: 'prod', 'cost-center': '4711', application: 'shop' };
  const resources: FakeResource[] = [];
  for (let k = 0; k < FLEET; k++) {
    for (const [namespace, kind] of Object.entries(FLEET_KINDS)) {
      resources.push({ arn: `arn:aws:${kind.service}:eu-west-1:${ENRICHED}:${kind.resource(fleetMember(k))}`, tags, ...(namespace === 'AWS/EC2' ? { details: { InstanceType: 'm6i.large' } } : {}) });
    }
  }
  aws.setResources(ENRICHED, 'eu-west-1', resources);
  return aws;
}

/** The compiled service (what the image runs), built once per bench run. */
const ENTRY = compiledEntry();

async function startFiretap(sinkUrl: string, awsUrl: string) {
  return startService(
    {
      ...imageEnv(),
      OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
      OTEL_EXPORTER_OTLP_COMPRESSION: args.compression,
      FIRETAP_ENRICHMENT_ATTRIBUTES_ON: args['attributes-on'],
      FIRETAP_ENRICHMENT_REGIONS: 'eu-west-1',
      AWS_ENDPOINT_URL: awsUrl,
      AWS_ACCESS_KEY_ID: 'AKIDBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...(args['decode-threads'] !== undefined ? { FIRETAP_DECODE_THREADS: args['decode-threads'] } : {}),
      // e.g. FIRETAP_BENCH_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof": profiles the service under the load.
      ...(process.env.FIRETAP_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.FIRETAP_BENCH_NODE_OPTIONS } : {}),
    },
    /tag cache refreshed/,
    ENTRY,
  );
}


let requestSerial = 0;
/** The counting sink's process, whose CPU counts with the load generator's. */
let sinkPid: number | undefined;

/**
 * The load generator posts with node:http over kept-alive connections: it shares this machine's two cores
 * with the service, and fetch costs it about twice the CPU per request (a copy of every body, streams).
 */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function post(url: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolvePost, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => resolvePost(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function phase(base: string, pid: number, name: string, url: string, workload: { body: Buffer; items: number }, phaseMs = durationMs) {
  const before = processStats(pid);
  const ownBefore = process.cpuUsage();
  const sinkBefore = sinkPid ? processStats(sinkPid).cpuSeconds : 0;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const deadline = performance.now() + phaseMs;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < deadline; i++) {
      // Unique ids: a repeated id with the same body is (rightly) acknowledged without being delivered again.
      const requestId = `${name}-${w}-${i}-${(requestSerial++).toString(36)}`;
      const started = performance.now();
      const status = await post(base + url, firehoseHeaders(requestId), workload.body);
      if (status === 200) {
        ok++;
        latencies.push(performance.now() - started);
      } else failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  const after = processStats(pid);
  const own = process.cpuUsage(ownBefore);
  const sinkCpu = sinkPid ? processStats(sinkPid).cpuSeconds - sinkBefore : 0;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => percentile(latencies, p);
  return {
    name,
    requestMiB: +(workload.body.length / MiB).toFixed(2),
    itemsPerRequest: workload.items,
    requests: ok,
    failed,
    itemsPerSecond: Math.round((ok * workload.items) / seconds),
    p50Ms: +pct(50).toFixed(1),
    p99Ms: +pct(99).toFixed(1),
    peakRssMb: Math.round(after.peakRssMb),
    cpuSeconds: +(after.cpuSeconds - before.cpuSeconds).toFixed(2),
    /** This process (the load generator) and the OTLP sink's: what the service did not get of the machine. */
    loadCpuSeconds: +((own.user + own.system) / 1e6 + sinkCpu).toFixed(2),
    /** Every acknowledged request's latency, sorted (not printed: for combining slices). */
    latencies,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The median (as percentile() takes it), lowest and highest of one figure over the rounds. */
function overRounds(values: readonly number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((x, y) => x - y);
  return { median: percentile(sorted, 50), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Runs `work` (which returns items done) repeatedly for about `ms`, single-threaded: items per second. */
function rate(ms: number, work: () => number): number {
  for (let i = 0; i < 3; i++) work(); // warm up
  let items = 0;
  const started = performance.now();
  while (performance.now() - started < ms) items += work();
  return Math.round(items / ((performance.now() - started) / 1000));
}

/** The naive relay firetap is measured against: protobufjs object decode of every frame, then re-encode. */
function metricsBaseline(records: Buffer[], ms: number): number {
  const T = otlpTypes.ExportMetricsServiceRequest;
  return rate(ms, () => {
    let points = 0;
    for (const record of records) {
      for (const f of lengthPrefixedFrames(record)) {
        const request = T.decode(record.subarray(f.start, f.end)) as any;
        for (const rm of request.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) points += m.summary.dataPoints.length;
        T.encode(request).finish();
      }
    }
    return points;
  });
}

/** The logs floor (gunzip + JSON.parse) and the naive relay (that, plus building and encoding OTLP objects). */
function logsBaselines(records: Buffer[], ms: number): { floor: number; naive: number } {
  const T = otlpTypes.ExportLogsServiceRequest;
  const floor = rate(ms, () => records.reduce((n, r) => n + (JSON.parse(gunzipSync(r).toString('utf8')) as { logEvents: unknown[] }).logEvents.length, 0));
  const naive = rate(ms, () => {
    let events = 0;
    for (const r of records) {
      const m = JSON.parse(gunzipSync(r).toString('utf8')) as { owner: string; logGroup: string; logStream: string; logEvents: Array<{ id: string; timestamp: number; message: string }> };
      const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
      const request = T.fromObject({
        resourceLogs: [
          {
            resource: { attributes: [str('cloud.provider', 'aws'), str('cloud.account.id', m.owner), str('aws.log.group.names', m.logGroup), str('aws.log.stream.names', m.logStream)] },
            scopeLogs: [{ scope: { name: 'baseline' }, logRecords: m.logEvents.map((e) => ({ timeUnixNano: String(BigInt(e.timestamp) * 1_000_000n), body: { stringValue: e.message }, attributes: [str('log.record.uid', e.id ?? '')] })) }],
          },
        ],
      });
      T.encode(request).finish();
      events += m.logEvents.length;
    }
    return events;
  });
  return { floor, naive };
}

type PhaseResult = Awaited<ReturnType<typeof phase>>;

/**
 * Workloads measured in rounds of slices (baselines, a, b, baselines, b, a …), each round's baselines
 * measured in this process while the service idles, just before its slices: this machine's speed drifts by
 * up to 30 % within a minute, and a round's slices are seconds apart. A workload's figures are its slices
 * summed; every ratio (to a baseline, or of one workload to another) is the median over rounds of that
 * round's ratio.
 */
async function rounds(base: string, pid: number, url: string, workloads: ReadonlyArray<{ name: string; body: Buffer; items: number }>, baselines: () => Record<string, number>, count = ROUNDS) {
  const slices: Record<string, PhaseResult[]> = Object.fromEntries(workloads.map((w) => [w.name, []]));
  const measured: Array<Record<string, number>> = [];
  for (let i = 0; i < count; i++) {
    // The service's collector finishes its work after a slice; the baseline is not to share the cores with it.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    measured.push(baselines());
    // Every other round in the reverse order: the second slice of a round inherits the first one's garbage
    // and heap growth, and comes later in the machine's drift — a fixed order would charge that to one workload.
    for (const w of i % 2 === 0 ? workloads : [...workloads].reverse()) slices[w.name]!.push(await phase(base, pid, w.name, url, w, durationMs / count));
  }
  const sum = (name: string): PhaseResult => {
    const parts = slices[name]!;
    const seconds = (durationMs / count / 1000) * parts.length;
    const requests = parts.reduce((n, p) => n + p.requests, 0);
    const latencies = parts.flatMap((p) => p.latencies).sort((x, y) => x - y);
    return {
      ...parts[0]!,
      requests,
      failed: parts.reduce((n, p) => n + p.failed, 0),
      itemsPerSecond: Math.round((requests * parts[0]!.itemsPerRequest) / seconds),
      p50Ms: +percentile(latencies, 50).toFixed(1),
      p99Ms: +percentile(latencies, 99).toFixed(1),
      latencies,
      peakRssMb: Math.max(...parts.map((p) => p.peakRssMb)),
      cpuSeconds: +parts.reduce((n, p) => n + p.cpuSeconds, 0).toFixed(2),
      loadCpuSeconds: +parts.reduce((n, p) => n + p.loadCpuSeconds, 0).toFixed(2),
    };
  };
  /** Median over rounds of a workload's rate divided by a baseline's (or another workload's) rate, with its range. */
  const ratio = (name: string, over: string) => {
    const r = overRounds(slices[name]!.map((p, i) => p.itemsPerSecond / (measured[i]![over] ?? slices[over]![i]!.itemsPerSecond)));
    return { median: +r.median.toFixed(3), min: +r.min.toFixed(2), max: +r.max.toFixed(2) };
  };
  const perBaseline = Object.keys(measured[0]!).map((k) => [k, overRounds(measured.map((m) => m[k]!))] as const);
  const baseline = Object.fromEntries(perBaseline.map(([k, r]) => [k, Math.round(r.median)]));
  const spread = Object.fromEntries(perBaseline.map(([k, r]) => [k, [r.min, r.max]]));
  return { results: workloads.map((w) => sum(w.name)), ratio, baseline, spread };
}

/**
 * One request as large as Firehose sends (64 MiB of records), on a fresh service: its peak RSS, the
 * longest event-loop stall while it was processed (prom-client's monitorEventLoopDelay, read from
 * /metrics), and how long /healthz took meanwhile.
 */
async function largeRequestPhase(records: Buffer[], sinkUrl: string) {
  const many: Buffer[] = [];
  let size = 0;
  for (let i = 0; size < 64 * MiB; i++) {
    const r = records[i % records.length]!;
    many.push(r);
    size += r.length;
  }
  // Encoded once here: fetch would otherwise spend this process's event loop turning an 85 MiB string into bytes.
  const body = Buffer.from(firehoseBody(many, 'large'));
  const svc = await startService({ ...imageEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, FIRETAP_LOG_LEVEL: 'info' }, /firetap ready/, ENTRY);
  try {
    const lagMax = async () => {
      const text = await (await fetch(`${svc.base}/metrics`)).text();
      return Number(/^firetap_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1] ?? NaN);
    };
    await lagMax(); // resets the window
    const rssBefore = processStats(svc.child.pid!).peakRssMb;
    let healthMax = 0;
    let done = false;
    const prober = (async () => {
      while (!done) {
        const started = performance.now();
        await fetch(`${svc.base}/healthz`);
        healthMax = Math.max(healthMax, performance.now() - started);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const started = performance.now();
    const res = await fetch(`${svc.base}/firehose/metrics`, { method: 'POST', headers: firehoseHeaders('large'), body });
    await res.arrayBuffer();
    const seconds = (performance.now() - started) / 1000;
    done = true;
    await prober;
    return {
      status: res.status,
      recordsMiB: +(size / MiB).toFixed(1),
      bodyMiB: +(body.length / MiB).toFixed(1),
      seconds: +seconds.toFixed(2),
      peakRssMb: Math.round(processStats(svc.child.pid!).peakRssMb),
      idleRssMb: Math.round(rssBefore),
      maxEventLoopStallMs: +((await lagMax()) * 1000).toFixed(1),
      maxHealthzMs: +healthMax.toFixed(1),
    };
  } finally {
    svc.child.kill('SIGTERM');
  }
}

async function main() {
  const metricsPlain = metricsWorkload(PLAIN);
  const metricsTagged = metricsWorkload(ENRICHED);
  const logs = logsWorkload();
  const sink = await startCountingSink();
  sinkPid = sink.pid;
  const aws = await startAws();
  const { child, base, exited } = await startFiretap(sink.url, aws.url);
  const baseline: Record<string, number> = {};
  const spread: Record<string, number[]> = {};
  const ratios: Record<string, { median: number; min: number; max: number }> = {};
  try {
    const results = [];
    // Warm-up, not counted: JIT compilation and the first heap growth happen once per process, not per request.
    const warmUp = Math.min(2000, durationMs / 4);
    // Each round's baselines run for as long as one of its service slices, at most a second.
    const baselineMs = Math.min(1000, durationMs / ROUNDS);
    if (args.only !== 'logs') {
      await phase(base, child.pid!, 'warm-up', '/firehose/metrics', metricsPlain, warmUp);
      await phase(base, child.pid!, 'warm-up', '/firehose/metrics', metricsTagged, warmUp);
      const m = await rounds(base, child.pid!, '/firehose/metrics', [{ name: 'metrics', ...metricsPlain }, { name: 'metrics+tags', ...metricsTagged }], () => ({
        metricsNaive: metricsBaseline(metricsPlain.records, baselineMs),
      }));
      results.push(...m.results);
      Object.assign(baseline, m.baseline);
      Object.assign(spread, m.spread);
      Object.assign(ratios, { metricsVsNaive: m.ratio('metrics', 'metricsNaive'), metricsWithTagsVsNaive: m.ratio('metrics+tags', 'metricsNaive'), taggedVsPlain: m.ratio('metrics+tags', 'metrics') });
    }
    if (args.only !== 'metrics') {
      await phase(base, child.pid!, 'warm-up', '/firehose/logs', logs, warmUp);
      const l = await rounds(base, child.pid!, '/firehose/logs', [{ name: 'logs', ...logs }], () => logsBaselines(logs.records, baselineMs / 2));
      results.push(...l.results);
      Object.assign(baseline, l.baseline);
      Object.assign(spread, l.spread);
      Object.assign(ratios, { logsVsFloor: l.ratio('logs', 'floor'), logsVsNaive: l.ratio('logs', 'naive') });
    }
    child.kill('SIGTERM');
    await exited;
    const large = args.only === 'logs' ? undefined : await largeRequestPhase(metricsPlain.records, sink.url);
    console.log(`firetap bench — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, the compiled service (${Object.entries(imageEnv()).map(([k, v]) => `${k}=${v}`).join(' ')} node ${imageNodeFlags().join(' ')} dist/main.js, as the image runs it), ${concurrency} in flight, ${args.duration}s per workload in ${ROUNDS} rounds, OTLP compression ${args.compression}, resource attributes on each ${args['attributes-on']}, decode threads ${args['decode-threads'] ?? 'default'}`);
    for (const r of results) {
      const unit = r.name.startsWith('metrics') ? 'datapoints/s' : 'events/s';
      console.log(
        `${r.name.padEnd(12)} ${String(r.itemsPerSecond).padStart(9)} ${unit.padEnd(13)} p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  ` +
          `${r.requests} requests of ${r.requestMiB} MiB (${r.failed} not 200)  peak RSS ${r.peakRssMb} MB  CPU ${r.cpuSeconds} s (load generator and sink ${r.loadCpuSeconds} s)`,
      );
    }
    const range = (k: string) => (spread[k] ? ` (${spread[k]!.join('–')})` : '');
    console.log(
      `baselines (single thread, in this process, each round's while the service idles; median${Object.keys(spread).length ? ', range' : ''}): ` +
        [
          ...(baseline.metricsNaive ? [`metrics decode+re-encode ${baseline.metricsNaive} datapoints/s${range('metricsNaive')}`] : []),
          ...(baseline.floor ? [`logs gunzip+JSON.parse floor ${baseline.floor} events/s${range('floor')}`, `naive logs relay ${baseline.naive} events/s${range('naive')}`] : []),
        ].join('; '),
    );
    const show = (r: { median: number; min: number; max: number } | undefined) => (r ? `${r.median.toFixed(2)}× (${r.min}–${r.max})` : '-');
    console.log(
      'ratios (median over rounds of the round\'s ratio, range): ' +
        [
          ...(ratios.metricsVsNaive ? [`metrics ${show(ratios.metricsVsNaive)} naive`, `metrics+tags ${show(ratios.metricsWithTagsVsNaive)} naive`] : []),
          ...(ratios.logsVsFloor ? [`logs ${show(ratios.logsVsFloor)} floor, ${show(ratios.logsVsNaive)} naive`] : []),
        ].join(', '),
    );
    const plain = results.find((r) => r.name === 'metrics');
    const tagged = results.find((r) => r.name === 'metrics+tags');
    const taggedVsPlain = ratios.taggedVsPlain;
    const enrichmentCost = taggedVsPlain !== undefined ? +(1 - taggedVsPlain.median).toFixed(3) : undefined;
    if (taggedVsPlain !== undefined) {
      console.log(
        `enrichment costs ${(100 * (1 - taggedVsPlain.median)).toFixed(1)} % of metric throughput (median over rounds of metrics+tags / metrics = ${taggedVsPlain.median.toFixed(2)}, ` +
          `range ${taggedVsPlain.min}–${taggedVsPlain.max}; of the sums ${plain && tagged ? (tagged.itemsPerSecond / plain.itemsPerSecond).toFixed(2) : '-'})`,
      );
    }
    if (large) {
      console.log(
        `one ${large.recordsMiB} MiB request (${large.bodyMiB} MiB body): ${large.status} in ${large.seconds} s, peak RSS ${large.peakRssMb} MB (idle ${large.idleRssMb} MB), ` +
          `longest event-loop stall ${large.maxEventLoopStallMs} ms, slowest /healthz ${large.maxHealthzMs} ms`,
      );
    }
    console.log(JSON.stringify({ bench: 'firetap', concurrency, durationSeconds: Number(args.duration), rounds: ROUNDS, compression: args.compression, enrichmentCost, baseline, baselineRange: spread, ratios, large, results: results.map(({ latencies: _, ...r }) => r) }));
  } finally {
    child.kill('SIGTERM');
    agent.destroy();
    sink.close();
    await aws.stop();
  }
}

await main();
