import { firehoseBody, firehoseHeaders } from '../test/helpers/cloudwatch-fixtures.ts';
import { imageEnv, startService } from '../test/helpers/service.ts';
import { MiB } from './options.ts';
import { processStats } from './service.ts';

/**
 * One request as large as Firehose sends (64 MiB of records), on a fresh service (`entry`: how to run it): its
 * peak RSS, the longest event-loop stall while it was processed (prom-client's monitorEventLoopDelay, read
 * from /metrics), and how long /healthz took meanwhile.
 */
export async function largeRequestPhase(records: Buffer[], sinkUrl: string, entry: readonly string[]) {
  const many: Buffer[] = [];
  let size = 0;
  for (let i = 0; size < 64 * MiB; i++) {
    const r = records[i % records.length]!;
    many.push(r);
    size += r.length;
  }
  // Encoded once here: fetch would otherwise spend this process's event loop turning an 85 MiB string into bytes.
  const body = Buffer.from(firehoseBody(many, 'large'));
  const svc = await startService({ ...imageEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, FIRETAP_LOG_LEVEL: 'info' }, /firetap ready/, entry);
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

export type LargeRequestResult = Awaited<ReturnType<typeof largeRequestPhase>>;
