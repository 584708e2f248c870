import { durationMs } from './options.ts';
import { percentile, phase, type PhaseResult, type Target } from './load.ts';

/** Service slices alternate with baseline slices in this many rounds per workload. */
export const ROUNDS = 8;
/** Idle time before a round's baselines. */
const SETTLE_MS = 300;

/** A figure over rounds: its median, lowest and highest. */
export interface OverRounds {
  median: number;
  min: number;
  max: number;
}

/** The median (as percentile() takes it), lowest and highest of one figure over the rounds. */
function overRounds(values: readonly number[]): OverRounds {
  const sorted = [...values].sort((x, y) => x - y);
  return { median: percentile(sorted, 50), min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/**
 * Workloads measured in rounds of slices (baselines, a, b, baselines, b, a …), each round's baselines
 * measured in this process while the service idles, just before its slices: this machine's speed drifts by
 * up to 30 % within a minute, and a round's slices are seconds apart. A workload's figures are its slices
 * summed; every ratio (to a baseline, or of one workload to another) is the median over rounds of that
 * round's ratio.
 */
export async function rounds(
  target: Target,
  url: string,
  workloads: ReadonlyArray<{ name: string; body: Buffer; items: number }>,
  baselines: () => Record<string, number>,
  count = ROUNDS,
) {
  const slices: Record<string, PhaseResult[]> = Object.fromEntries(workloads.map((w) => [w.name, []]));
  const measured: Array<Record<string, number>> = [];
  for (let i = 0; i < count; i++) {
    // The service's collector finishes its work after a slice; the baseline is not to share the cores with it.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    measured.push(baselines());
    // Every other round in the reverse order: the second slice of a round inherits the first one's garbage
    // and heap growth, and comes later in the machine's drift — a fixed order would charge that to one workload.
    for (const w of i % 2 === 0 ? workloads : [...workloads].reverse()) slices[w.name]!.push(await phase(target, w.name, url, w, durationMs / count));
  }
  const sum = (name: string): PhaseResult => {
    const parts = slices[name]!;
    // The slices' own durations: a slice ends when the requests in flight at its deadline are answered, which for
    // requests of tens of thousands of events (seconds at 8 in flight) is a good part of a slice.
    const seconds = parts.reduce((n, p) => n + p.seconds, 0);
    const requests = parts.reduce((n, p) => n + p.requests, 0);
    const latencies = parts.flatMap((p) => p.latencies).sort((x, y) => x - y);
    return {
      ...parts[0]!,
      requests,
      seconds: +seconds.toFixed(2),
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
  const ratio = (name: string, over: string): OverRounds => {
    const r = overRounds(slices[name]!.map((p, i) => p.itemsPerSecond / (measured[i]![over] ?? slices[over]![i]!.itemsPerSecond)));
    return { median: +r.median.toFixed(3), min: +r.min.toFixed(2), max: +r.max.toFixed(2) };
  };
  const perBaseline = Object.keys(measured[0]!).map((k) => [k, overRounds(measured.map((m) => m[k]!))] as const);
  const baseline = Object.fromEntries(perBaseline.map(([k, r]) => [k, Math.round(r.median)]));
  const spread = Object.fromEntries(perBaseline.map(([k, r]) => [k, [r.min, r.max]]));
  return { results: workloads.map((w) => sum(w.name)), ratio, baseline, spread };
}
