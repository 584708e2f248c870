import { createHash } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { buildApp } from '../app.ts';
import type { Config, Signal } from '../config/schema.ts';
import type { Exporter } from '../export/exporter.ts';
import { createExporters } from '../export/registry.ts';
import { FIREHOSE_ROUTES } from '../firehose/route.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { recordsOfObject, type ReplayRecord } from './objects.ts';
import { listObjects, type ReplayObject } from './sources.ts';

export interface ReplayOptions {
  /** A local file or directory, or `s3://bucket/prefix`. */
  readonly location: string;
  /** Route every record to this signal instead of detecting it. */
  readonly signal?: Signal | undefined;
  /** Decode and count, send nothing, remember nothing. */
  readonly dryRun: boolean;
  /** JSON lines of the objects already replayed; those are skipped. */
  readonly statePath: string;
  /** Ignore the state file (replay everything again). */
  readonly fresh: boolean;
  /** Records per request sent through the pipeline (Firehose sends at most 10,000). */
  readonly recordsPerRequest?: number;
  /** Attempts per request while the backend is unavailable, before the run stops (resumable). */
  readonly attempts?: number;
  /** Objects replayed at once (default 1). */
  readonly concurrency?: number;
  /** Progress and messages (stderr). */
  readonly progress: Writable & { isTTY?: boolean };
}

export interface ReplaySummary {
  objects: number;
  replayed: number;
  skipped: number;
  records: number;
  /** Data points and log records the backend accepted (or, in a dry run, that would be sent). */
  items: number;
  badRecords: number;
  bytes: number;
  seconds: number;
  /** Why the run stopped early, when it did. */
  stoppedAt?: { object: string; error: string };
  /** Objects some of whose records could not be decoded at all (their data stays where it was). */
  refused: Array<{ object: string; error: string }>;
}

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** Counts what an exporter accepted; in a dry run accepts everything without sending it. */
function counting(inner: Exporter | undefined, onAccepted: (items: number) => void): Exporter {
  return {
    async export(request) {
      const result = inner ? await inner.export(request) : { status: 'success' as const };
      if (result.status === 'success') onAccepted(request.items - (result.rejected ?? 0));
      return result;
    },
    shutdown: () => inner?.shutdown() ?? Promise.resolve(),
  };
}

async function loadState(path: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw err;
  }
  const done = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const entry = JSON.parse(line) as { name?: string; version?: string };
      if (entry.name && entry.version) done.add(`${entry.name}\u0000${entry.version}`);
    } catch {
      // A line cut off by a crash: that object is simply replayed again.
    }
  }
  return done;
}

/** Requests of at most `perRequest` records and MAX_REQUEST_BYTES of data, each of one signal, in order. */
function* requests(records: readonly ReplayRecord[], perRequest: number): Generator<{ signal: Signal; records: ReplayRecord[] }> {
  let current: ReplayRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    if (current.length > 0 && (current[0]!.signal !== r.signal || current.length >= perRequest || bytes + r.data.length > MAX_REQUEST_BYTES)) {
      yield { signal: current[0]!.signal, records: current };
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += r.data.length;
  }
  if (current.length > 0) yield { signal: current[0]!.signal, records: current };
}

/**
 * Sends Firehose backup objects through the service's own pipeline again — the same routes, decoders,
 * enrichment, batching, retries and exporters, in process — a few objects at a time in key order, and
 * records each object once it was delivered so that an interrupted replay resumes where it stopped. Stops
 * at the first request the backend could not take after retrying: no object is started after it, and an
 * object is only marked done when all of it was delivered.
 */
export async function replay(config: Config, options: ReplayOptions): Promise<ReplaySummary> {
  const started = performance.now();
  const summary: ReplaySummary = { objects: 0, replayed: 0, skipped: 0, records: 0, items: 0, badRecords: 0, bytes: 0, seconds: 0, refused: [] };
  const accepted = (items: number) => (summary.items += items);
  const real = options.dryRun ? undefined : createExporters(config, createMetrics());
  const exporters = { metrics: counting(real?.metrics, accepted), logs: counting(real?.logs, accepted), traces: counting(real?.traces, accepted) };
  const { app, scraper } = await buildApp(config, { exporters, logStream: options.progress });
  const out = options.progress;
  try {
    if (scraper) {
      scraper.start();
      while (!scraper.ready()) await sleep(100);
    }
    const objects = await listObjects(options.location);
    summary.objects = objects.length;
    const done = options.fresh || options.dryRun ? new Set<string>() : await loadState(options.statePath);
    const perRequest = Math.min(options.recordsPerRequest ?? 500, 10_000);
    const attempts = options.attempts ?? 5;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amz-firehose-protocol-version': '1.0' };
    if (config.accessKeys[0]) headers['x-amz-firehose-access-key'] = config.accessKeys[0];

    const show = (object: ReplayObject | undefined, index: number) => {
      const rate = summary.bytes / 1e6 / Math.max(0.001, (performance.now() - started) / 1000);
      const counts = `${summary.records.toLocaleString('en')} records · ${summary.items.toLocaleString('en')} items · ${rate.toFixed(1)} MB/s`;
      if (out.isTTY) {
        const width = 24;
        const filled = objects.length === 0 ? width : Math.round((index / objects.length) * width);
        out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${index}/${objects.length} objects · ${counts}\u001b[K`);
      } else if (object) {
        out.write(`replayed ${object.name} (${index}/${objects.length}) · ${counts}\n`);
      }
    };

    let finished = 0;
    /** Sends one object's records; false when the backend could not take them (the run stops). */
    const replayObject = async (object: ReplayObject): Promise<boolean> => {
      let records: ReplayRecord[];
      try {
        records = await recordsOfObject(await object.read(), options.signal);
      } catch (err) {
        summary.refused.push({ object: object.name, error: (err as Error).message });
        out.write(`${out.isTTY ? '\n' : ''}${object.name}: not a Firehose backup object: ${(err as Error).message}\n`);
        return true;
      }
      const objectId = createHash('sha256').update(`${object.name}\u0000${object.version}`).digest('hex').slice(0, 16);
      let n = 0;
      for (const request of requests(records, perRequest)) {
        if (summary.stoppedAt) return false;
        const requestId = `replay-${objectId}-${n++}`;
        const body = JSON.stringify({ requestId, timestamp: Date.now(), records: request.records.map((r) => ({ data: r.data.toString('base64') })) });
        for (let attempt = 1; ; attempt++) {
          const res = await app.inject({
            method: 'POST',
            url: FIREHOSE_ROUTES[request.signal],
            headers: { ...headers, 'x-amz-firehose-request-id': requestId },
            payload: body,
          });
          if (res.statusCode === 200) break;
          const message = (res.json() as { errorMessage?: string }).errorMessage ?? `HTTP ${res.statusCode}`;
          if (res.statusCode === 400) {
            // Every record of the request is undecodable (counted as bad records at the end): they stay in
            // the object; say so and go on.
            summary.refused.push({ object: object.name, error: message });
            break;
          }
          if (attempt >= attempts || res.statusCode < 500) {
            summary.stoppedAt ??= { object: object.name, error: message };
            return false;
          }
          const retryAfter = Number(res.headers['retry-after']);
          await sleep(Math.min(30_000, (Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 1000) * attempt));
        }
      }
      summary.replayed++;
      summary.records += records.length;
      summary.bytes += object.size;
      if (!options.dryRun)
        await appendFile(
          options.statePath,
          `${JSON.stringify({ name: object.name, version: object.version, records: records.length, at: new Date().toISOString() })}\n`,
        );
      show(object, ++finished);
      return true;
    };

    // A few objects at a time, in key order; after a failure no new object is started (the others finish).
    const pending = objects.filter((o) => {
      const skip = done.has(`${o.name}\u0000${o.version}`);
      if (skip) summary.skipped++;
      return !skip;
    });
    finished = summary.skipped;
    let next = 0;
    const worker = async () => {
      while (next < pending.length && !summary.stoppedAt) await replayObject(pending[next++]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
    const rejected = await app.inject({ url: '/metrics' });
    for (const m of rejected.body.matchAll(/^firetap_records_rejected_total\{[^}]*\} (\d+)$/gm)) summary.badRecords += Number(m[1]);
    return summary;
  } finally {
    if (out.isTTY) out.write('\n');
    summary.seconds = (performance.now() - started) / 1000;
    await app.close();
  }
}
