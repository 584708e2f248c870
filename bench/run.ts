/**
 * End-to-end benchmark: starts firetap (compiled, node dist/main.js) as a child process with a loopback OTLP sink,
 * posts realistic Firehose requests with a fixed number in flight, and prints throughput (counted
 * only for requests acknowledged with 200), latency percentiles, the service's peak RSS and CPU time.
 *
 *   npm run bench -- [--duration 10] [--concurrency 8] [--compression none|gzip] [--only metrics|logs|short-logs|mixed-logs|spans|remote-write]
 *                    [--attributes-on datapoint|resource] [--decode-threads N (default: the service's)] [--state]
 *                    [--processes N (service processes, requests round-robin; their CPU and peak RSS summed)]
 *
 * All traffic stays on 127.0.0.1, and every phase stops by itself after --duration seconds.
 * The parts: options.ts (flags), fleet.ts and workloads.ts (what is posted), load.ts (one measured phase),
 * baselines.ts (what firetap is compared with), rounds.ts (phases and baselines in rounds),
 * large-request.ts (one 64 MiB request), remote-write.ts (Prometheus remote write against OTLP), report.ts (what is printed).
 */
import { imageEnv, startService } from '../test/helpers/service.ts';
import { RedisServer } from '../test/helpers/redis-server.ts';
import { logsBaselines, metricsBaseline, mixedLogsFloor, spansFloor } from './baselines.ts';
import { ENRICHED, PLAIN, startAws } from './fleet.ts';
import { largeRequestPhase } from './large-request.ts';
import { closeConnections, phase, type PhaseResult, type Target } from './load.ts';
import { args, durationMs } from './options.ts';
import { remoteWritePhases } from './remote-write.ts';
import { report } from './report.ts';
import { ROUNDS, rounds, type OverRounds } from './rounds.ts';
import { compiledEntry, startCountingSink } from './service.ts';
import { shortLogsWorkload } from './short-logs.ts';
import { mixedLogsWorkload } from './mixed-logs.ts';
import { logsWorkload, metricsWorkload, spansWorkload } from './workloads.ts';

/** The compiled service (what the image runs), built once per bench run. */
const ENTRY = compiledEntry();

async function startFiretap(sinkUrl: string, awsUrl: string, stateUrl: string | undefined) {
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
      ...(stateUrl ? { FIRETAP_STATE_URL: stateUrl } : {}),
      // e.g. FIRETAP_BENCH_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof": profiles the service under the load.
      ...(process.env.FIRETAP_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.FIRETAP_BENCH_NODE_OPTIONS } : {}),
    },
    // Ready with tags: its own refresh, or (a follower of a fleet with --state) the leader's snapshot loaded.
    /tag cache refreshed|loaded the tag snapshot/,
    ENTRY,
  );
}

async function main() {
  const metricsPlain = metricsWorkload(PLAIN);
  const metricsTagged = metricsWorkload(ENRICHED);
  const logs = logsWorkload();
  const shortLogs = shortLogsWorkload();
  const mixedLogs = mixedLogsWorkload();
  const spans = spansWorkload();
  const sink = await startCountingSink();
  const aws = await startAws();
  const store = args.state ? await new RedisServer().start() : undefined;
  const services = await Promise.all(Array.from({ length: Math.max(1, Number(args.processes)) }, () => startFiretap(sink.url, aws.url, store?.url)));
  const target: Target = { bases: services.map((s) => s.base), pids: services.map((s) => s.child.pid!), sinkPid: sink.pid };
  const stopServices = async () => {
    for (const s of services) s.child.kill('SIGTERM');
    await Promise.all(services.map((s) => s.exited));
  };
  const baseline: Record<string, number> = {};
  const spread: Record<string, number[]> = {};
  const ratios: Record<string, OverRounds> = {};
  const results: PhaseResult[] = [];
  /** Keeps one workload's slices, baselines and spread, and the ratios read from them. */
  const keep = (r: Awaited<ReturnType<typeof rounds>>, read: (ratio: typeof r.ratio) => Record<string, OverRounds>) => {
    results.push(...r.results);
    Object.assign(baseline, r.baseline);
    Object.assign(spread, r.spread);
    Object.assign(ratios, read(r.ratio));
  };
  try {
    // Warm-up, not counted: JIT compilation and the first heap growth happen once per process, not per request.
    const warmUp = Math.min(2000, durationMs / 4);
    // Each round's baselines run for as long as one of its service slices, at most a second.
    const baselineMs = Math.min(1000, durationMs / ROUNDS);
    const runs = (what: string) => args.only === undefined || args.only === what;
    if (runs('metrics')) {
      await phase(target, 'warm-up', '/firehose/metrics', metricsPlain, warmUp);
      await phase(target, 'warm-up', '/firehose/metrics', metricsTagged, warmUp);
      const m = await rounds(
        target,
        '/firehose/metrics',
        [
          { name: 'metrics', ...metricsPlain },
          { name: 'metrics+tags', ...metricsTagged },
        ],
        () => ({
          metricsNaive: metricsBaseline(metricsPlain.records, baselineMs),
        }),
      );
      keep(m, (ratio) => ({
        metricsVsNaive: ratio('metrics', 'metricsNaive'),
        metricsWithTagsVsNaive: ratio('metrics+tags', 'metricsNaive'),
        taggedVsPlain: ratio('metrics+tags', 'metrics'),
      }));
    }
    if (runs('logs')) {
      await phase(target, 'warm-up', '/firehose/logs', logs, warmUp);
      const l = await rounds(target, '/firehose/logs', [{ name: 'logs', ...logs }], () => logsBaselines(logs.records, baselineMs / 2));
      keep(l, (ratio) => ({ logsVsFloor: ratio('logs', 'floor'), logsVsNaive: ratio('logs', 'naive') }));
    }
    if (runs('short-logs')) {
      // Short compressible lines (Lambda, ECS): tens of thousands of events a request, so per-event cost is what counts.
      await phase(target, 'warm-up', '/firehose/logs', shortLogs, warmUp);
      const l = await rounds(target, '/firehose/logs', [{ name: 'short-logs', ...shortLogs }], () => {
        const b = logsBaselines(shortLogs.records, baselineMs / 2);
        return { shortFloor: b.floor, shortNaive: b.naive };
      });
      keep(l, (ratio) => ({ shortLogsVsFloor: ratio('short-logs', 'shortFloor'), shortLogsVsNaive: ratio('short-logs', 'shortNaive') }));
    }
    if (runs('mixed-logs')) {
      // VPC flow logs, CloudTrail, Lambda EMF and REPORT lines, raw lines: each kind's own path through the logs codec.
      await phase(target, 'warm-up', '/firehose/logs', mixedLogs, warmUp);
      const l = await rounds(target, '/firehose/logs', [{ name: 'mixed-logs', ...mixedLogs }], () => ({
        mixedFloor: mixedLogsFloor(mixedLogs.records, baselineMs / 2),
      }));
      keep(l, (ratio) => ({ mixedLogsVsFloor: ratio('mixed-logs', 'mixedFloor') }));
    }
    if (runs('spans')) {
      // aws/spans records on the logs route (one stream for every log group), exported as traces.
      await phase(target, 'warm-up', '/firehose/logs', spans, warmUp);
      const s = await rounds(target, '/firehose/logs', [{ name: 'spans', ...spans }], () => ({ spansFloor: spansFloor(spans.records, baselineMs) }));
      keep(s, (ratio) => ({ spansVsFloor: ratio('spans', 'spansFloor') }));
    }
    await stopServices();
    const remoteWrite = runs('remote-write') ? await remoteWritePhases(metricsPlain, sink.url, sink.pid, ENTRY) : undefined;
    const large = runs('metrics') ? await largeRequestPhase(metricsPlain.records, sink.url, ENTRY) : undefined;
    report({ results, baseline, spread, ratios, large, remoteWrite });
  } finally {
    for (const s of services) s.child.kill('SIGTERM');
    closeConnections();
    sink.close();
    await aws.stop();
    await store?.close();
  }
}

await main();
