import { Agent, request } from 'node:http';
import { firehoseHeaders } from '../test/helpers/cloudwatch-fixtures.ts';
import { concurrency, MiB } from './options.ts';
import { processStats } from './service.ts';

/**
 * The service under load: the base URL and pid of each of its processes (--processes; requests go round-robin), and
 * the counting sink's pid, whose CPU counts with the load generator's.
 */
export interface Target {
  readonly bases: readonly string[];
  readonly pids: readonly number[];
  readonly sinkPid: number | undefined;
}

/** The service's processes together: their peak RSS and CPU seconds summed. */
function serviceStats(pids: readonly number[]): { peakRssMb: number; cpuSeconds: number } {
  const all = pids.map(processStats);
  return { peakRssMb: all.reduce((n, s) => n + s.peakRssMb, 0), cpuSeconds: all.reduce((n, s) => n + s.cpuSeconds, 0) };
}

let requestSerial = 0;

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

/** Closes the load generator's kept-alive connections. */
export function closeConnections(): void {
  agent.destroy();
}

/** Posts `workload` for `phaseMs` with `concurrency` requests in flight: throughput, latencies, the service's RSS and CPU. */
export async function phase(target: Target, name: string, url: string, workload: { body: Buffer; items: number }, phaseMs: number) {
  const { bases, pids, sinkPid } = target;
  const before = serviceStats(pids);
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
      const status = await post(bases[(w + i) % bases.length] + url, firehoseHeaders(requestId), workload.body);
      if (status === 200) {
        ok++;
        latencies.push(performance.now() - started);
      } else failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - started) / 1000;
  const after = serviceStats(pids);
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
    /** How long the phase ran: until its deadline, then until the requests in flight were answered. */
    seconds,
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

export type PhaseResult = Awaited<ReturnType<typeof phase>>;

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
