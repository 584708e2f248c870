import { imageEnv, startService } from '../test/helpers/service.ts';
import { phase, type PhaseResult, type Target } from './load.ts';
import { args, durationMs } from './options.ts';
import { ROUNDS, type OverRounds } from './rounds.ts';

const SETTLE_MS = 300;

/**
 * Prometheus remote write against OTLP in the same run: three fresh services (the compiled `entry`) export the same
 * metric-stream workload to the counting sink — over OTLP, as remote write (OTel names) and as remote write under
 * YACE's names — in rounds of alternating slices, one service loaded at a time, so that the machine's drift falls on
 * all of them. The ratios are the median over rounds of a round's remote-write rate over its OTLP rate (target ≥ 0.7).
 */
export async function remoteWritePhases(workload: { body: Buffer; items: number }, sinkUrl: string, sinkPid: number, entry: readonly string[]) {
  const common: Record<string, string> = { ...imageEnv() };
  if (args['decode-threads'] !== undefined) common.FIRETAP_DECODE_THREADS = args['decode-threads'];
  const remoteWrite = { FIRETAP_PROMETHEUS_REMOTE_WRITE_URL: `${sinkUrl}/api/v1/write`, FIRETAP_METRICS_EXPORTERS: 'prometheus-remote-write' };
  const variants: Array<{ name: string; env: Record<string, string> }> = [
    { name: 'otlp', env: { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl } },
    { name: 'remote-write', env: remoteWrite },
    { name: 'rw+yace', env: { ...remoteWrite, FIRETAP_METRIC_NAMING: 'yace' } },
  ];
  const services = await Promise.all(variants.map((v) => startService({ ...common, ...v.env }, /firetap ready/, entry)));
  try {
    const targets: Target[] = services.map((s) => ({ bases: [s.base], pids: [s.child.pid!], sinkPid }));
    const slices: PhaseResult[][] = variants.map(() => []);
    const sliceMs = durationMs / ROUNDS;
    for (let t = 0; t < targets.length; t++) await phase(targets[t]!, 'warm-up', '/firehose/metrics', workload, Math.min(1000, sliceMs));
    for (let round = 0; round < ROUNDS; round++) {
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const order = round % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
      for (const i of order) slices[i]!.push(await phase(targets[i]!, variants[i]!.name, '/firehose/metrics', workload, sliceMs));
    }
    // A slice runs past its deadline until its requests in flight are answered: rates are over each slice's own time.
    const rate = (parts: PhaseResult[]) => {
      const items = parts.reduce((n, p) => n + p.requests * workload.items, 0);
      const seconds = parts.reduce((n, p) => n + (p.itemsPerSecond > 0 ? (p.requests * workload.items) / p.itemsPerSecond : sliceMs / 1000), 0);
      return Math.round(items / seconds);
    };
    const overRounds = (i: number): OverRounds => {
      const r = slices[i]!.map((p, k) => p.itemsPerSecond / Math.max(1, slices[0]![k]!.itemsPerSecond)).sort((a, b) => a - b);
      return { median: +r[Math.floor(r.length / 2)]!.toFixed(3), min: +r[0]!.toFixed(2), max: +r[r.length - 1]!.toFixed(2) };
    };
    return {
      datapointsPerSecond: Object.fromEntries(variants.map((v, i) => [v.name, rate(slices[i]!)])),
      failed: Object.fromEntries(variants.map((v, i) => [v.name, slices[i]!.reduce((n, p) => n + p.failed, 0)])),
      peakRssMb: Object.fromEntries(variants.map((v, i) => [v.name, Math.max(...slices[i]!.map((p) => p.peakRssMb))])),
      remoteWriteVsOtlp: overRounds(1),
      yaceRemoteWriteVsOtlp: overRounds(2),
    };
  } finally {
    for (const s of services) s.child.kill('SIGTERM');
  }
}

export type RemoteWriteResult = Awaited<ReturnType<typeof remoteWritePhases>>;
