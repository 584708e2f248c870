import { cpus } from 'node:os';
import { imageEnv, imageNodeFlags } from '../test/helpers/service.ts';
import type { LargeRequestResult } from './large-request.ts';
import type { PhaseResult } from './load.ts';
import type { RemoteWriteResult } from './remote-write.ts';
import { args, concurrency } from './options.ts';
import { ROUNDS, type OverRounds } from './rounds.ts';

/** What a bench run measured, as report() prints it. */
export interface Measured {
  readonly results: PhaseResult[];
  readonly baseline: Record<string, number>;
  readonly spread: Record<string, number[]>;
  readonly ratios: Record<string, OverRounds>;
  readonly large: LargeRequestResult | undefined;
  readonly remoteWrite?: RemoteWriteResult | undefined;
}

/** Prints the run's figures: a line per workload, the baselines, the ratios, the enrichment's cost, the large request, then all of it as JSON. */
export function report({ results, baseline, spread, ratios, large, remoteWrite }: Measured): void {
  console.log(
    `firetap bench — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, the compiled service (${Object.entries(imageEnv())
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ' ',
      )} node ${imageNodeFlags().join(' ')} dist/main.js, as the image runs it), ${concurrency} in flight, ${args.duration}s per workload in ${ROUNDS} rounds, OTLP compression ${args.compression}, resource attributes on each ${args['attributes-on']}, decode threads ${args['decode-threads'] ?? 'default'}, state store ${args.state ? 'redis-server (FIRETAP_STATE_URL)' : 'none (in memory)'}, ${args.processes} service process(es)`,
  );
  for (const r of results) {
    const unit = r.name.startsWith('metrics') ? 'datapoints/s' : r.name === 'spans' ? 'spans/s' : 'events/s';
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
        ...(baseline.floor
          ? [`logs gunzip+JSON.parse floor ${baseline.floor} events/s${range('floor')}`, `naive logs relay ${baseline.naive} events/s${range('naive')}`]
          : []),
        ...(baseline.shortFloor
          ? [
              `short lines gunzip+JSON.parse floor ${baseline.shortFloor} events/s${range('shortFloor')}`,
              `naive short-lines relay ${baseline.shortNaive} events/s${range('shortNaive')}`,
            ]
          : []),
        ...(baseline.mixedFloor ? [`mixed logs gunzip+JSON.parse floor ${baseline.mixedFloor} events/s${range('mixedFloor')}`] : []),
        ...(baseline.spansFloor ? [`spans gunzip+JSON.parse floor ${baseline.spansFloor} spans/s${range('spansFloor')}`] : []),
      ].join('; '),
  );
  const show = (r: OverRounds | undefined) => (r ? `${r.median.toFixed(2)}× (${r.min}–${r.max})` : '-');
  console.log(
    "ratios (median over rounds of the round's ratio, range): " +
      [
        ...(ratios.metricsVsNaive ? [`metrics ${show(ratios.metricsVsNaive)} naive`, `metrics+tags ${show(ratios.metricsWithTagsVsNaive)} naive`] : []),
        ...(ratios.logsVsFloor ? [`logs ${show(ratios.logsVsFloor)} floor, ${show(ratios.logsVsNaive)} naive`] : []),
        ...(ratios.shortLogsVsFloor ? [`short-logs ${show(ratios.shortLogsVsFloor)} floor, ${show(ratios.shortLogsVsNaive)} naive`] : []),
        ...(ratios.mixedLogsVsFloor ? [`mixed-logs ${show(ratios.mixedLogsVsFloor)} floor`] : []),
        ...(ratios.spansVsFloor ? [`spans ${show(ratios.spansVsFloor)} floor`] : []),
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
  if (remoteWrite) {
    const rates = remoteWrite.datapointsPerSecond;
    console.log(
      `Prometheus remote write vs OTLP (three services, alternating slices): otlp ${rates.otlp}, remote-write ${rates['remote-write']}, ` +
        `remote-write with YACE names ${rates['rw+yace']} datapoints/s; remote-write/otlp ${show(remoteWrite.remoteWriteVsOtlp)}, ` +
        `yace ${show(remoteWrite.yaceRemoteWriteVsOtlp)} (target ≥ 0.7); not 200: ${JSON.stringify(remoteWrite.failed)}; peak RSS MB ${JSON.stringify(remoteWrite.peakRssMb)}`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'firetap',
      concurrency,
      durationSeconds: Number(args.duration),
      rounds: ROUNDS,
      compression: args.compression,
      stateStore: args.state,
      processes: Number(args.processes),
      enrichmentCost,
      baseline,
      baselineRange: spread,
      ratios,
      large,
      remoteWrite,
      results: results.map(({ latencies: _, ...r }) => r),
    }),
  );
}
