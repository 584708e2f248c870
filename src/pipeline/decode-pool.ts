import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { RecordErrorReason } from '../decode/record-error.ts';
import type { DiscoveredResource, ScopeIndex, TagFilter } from '../enrich/snapshot.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FiretapError } from '../errors.ts';
import type { LocatedRecords } from './located-records.ts';
import type { EncodedAttribute } from '../otlp/wire.ts';
import type { MetricFormat } from '../decode/formats.ts';

/** What a decode thread needs of one metrics request besides its body: the RecordContext fields the metric codecs read. */
export interface DecodeOptions {
  readonly resourceAttributes: readonly EncodedAttribute[];
  readonly metricFormat: MetricFormat;
  readonly attributesOn: 'datapoint' | 'resource';
  readonly enrich: boolean;
}

/** main → decode thread: one request's records, located in its (shared) body. */
export interface DecodeJob extends DecodeOptions {
  readonly id: number;
  readonly body: Uint8Array;
  /** Where the thread writes the records' OTLP, one after the other: shared memory, so nothing is copied back. */
  readonly out: Uint8Array;
  /** Per record, [start, end) of its base64 text in the body; a negative start: the text had JSON escapes, see `unescaped`. */
  readonly bounds: Int32Array;
  readonly unescaped: Readonly<Record<number, string>>;
}

/** decode thread → main. */
export interface DecodeResult {
  readonly id: number;
  /** Bytes written: in `out`, or in `spilled` when they did not fit there. */
  readonly length: number;
  readonly spilled: Uint8Array | undefined;
  /** Per record, where its bytes end (they start where the previous record's end) and how many data points they hold. */
  readonly ends: Int32Array;
  readonly items: Int32Array;
  /** The records that could not be decoded (they wrote nothing). */
  readonly errors: ReadonlyArray<{ index: number; reason: RecordErrorReason; message: string }>;
  readonly hits: ReadonlyArray<[string, number]>;
  readonly misses: ReadonlyArray<[string, number]>;
  /** The body's digest for the delivery ledger (bodyDigestSync): hashed here, where the body is read anyway. */
  readonly digest: string;
  /** Set when the thread failed for a reason other than a bad record: the request is to be retried. */
  readonly failure?: string;
}

/**
 * main → decode thread: the tag cache's snapshot, sent again whenever a refresh replaced it — as the resources
 * discovery found, in parts, from which the thread builds its own index (the same buildScopeIndex). Cloning a
 * built index in one message held the main thread ~160 ms for 24,000 resources; a part of SNAPSHOT_PART
 * resources takes a few milliseconds, and the parts go out on separate turns of the event loop.
 */
export type SnapshotMessage =
  | { readonly type: 'snapshot-begin'; readonly generation: number; readonly filter: TagFilter }
  | { readonly type: 'snapshot-part'; readonly generation: number; readonly scope: ScopeHeader; readonly resources: readonly DiscoveredResource[] }
  | { readonly type: 'snapshot-end'; readonly generation: number };

/** What a thread needs of a scope besides its resources. */
export interface ScopeHeader {
  readonly account: string;
  readonly region: string;
  readonly fetchedAt: number;
  readonly stale: boolean;
}

const SNAPSHOT_PART = 1000;

/** The tag cache as the pool sees it: its current snapshot, a new map after every refresh. */
export interface SnapshotSource {
  snapshot(): ReadonlyMap<string, ScopeIndex>;
}

interface Thread {
  worker: Worker;
  /** Jobs posted and not yet answered. */
  readonly pending: Map<number, { resolve: (r: DecodeResult) => void; reject: (e: Error) => void }>;
  /** The snapshot this thread holds, or is being sent (its identity changes with every refresh). */
  scopes: ReadonlyMap<string, ScopeIndex> | undefined;
  /** Settles when the snapshot has been sent in full: jobs are posted after it, so they see it. */
  sending: Promise<void> | undefined;
  /** A snapshot is being sent: busy() counts the thread as busy, so that other requests do not wait too. */
  receiving: boolean;
  /** When it was last started: a thread that keeps stopping soon after is not started again. */
  startedAt: number;
  quickStops: number;
  /** Given up on: requests are decoded elsewhere. */
  retired: boolean;
  /** Started and running JavaScript: until then (~0.1–0.3 s after a start) busy() counts it busy. */
  online: boolean;
}

/** A thread that stops this soon after it started, this many times in a row, is not started again. */
const QUICK_STOP_MS = 10_000;
const MAX_QUICK_STOPS = 3;

const WORKER_URL = new URL(`./decode-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Threads that rewrite metric-stream records off the main thread, which is then left with HTTP, the
 * envelope and exports (what it gains is measured in docs/performance.md). A request's body lies in shared memory (BufferPool `shared`); its
 * thread writes the OTLP into a shared buffer the request provides and answers with where each record
 * ends, or why it is bad — the main thread then batches and exports as it would have in-thread. When
 * every thread has its hands full (busy()), deliver() decodes the request on the main thread instead.
 *
 * A thread that dies fails the requests it held (retryable: Firehose sends them again) and is started
 * anew — unless it stopped within 10 s of its start three times in a row (a thread that cannot start, say):
 * then it is retired, logged as an error, and the main thread decodes in its place. The tag cache lives on
 * the main thread; each thread builds an index of its own from the snapshot's resources, sent (in parts)
 * before the first job after a refresh replaced it.
 */
export class DecodePool {
  private readonly threads: Thread[] = [];
  private nextId = 1;
  private closed = false;
  private readonly log: FastifyBaseLogger;
  private readonly enrichment: SnapshotSource | undefined;
  private readonly filter: TagFilter;
  private readonly onRestart: (() => void) | undefined;
  private readonly onRunning: ((running: number) => void) | undefined;
  private generation = 0;

  constructor(
    size: number,
    opts: { log: FastifyBaseLogger; enrichment: SnapshotSource | undefined; filter?: TagFilter; onRestart?: () => void; onRunning?: (running: number) => void },
  ) {
    this.log = opts.log;
    this.enrichment = opts.enrichment;
    this.filter = opts.filter ?? { include: [], exclude: [] };
    this.onRestart = opts.onRestart;
    this.onRunning = opts.onRunning;
    this.size = size;
  }

  readonly size: number;

  /**
   * Starts the threads, once: deliver() calls it on the first metrics request one could take, so that a service
   * that never gets one — logs only, or only requests over 16 MiB — never pays their memory (~18 MiB each).
   */
  start(): void {
    if (this.threads.length > 0 || this.closed) return;
    for (let i = 0; i < this.size; i++)
      this.threads.push(this.spawn({ pending: new Map(), scopes: undefined, startedAt: 0, quickStops: 0, retired: false } as unknown as Thread));
  }

  /** Threads started and running. */
  get running(): number {
    return this.threads.filter((t) => t.online).length;
  }

  private spawn(thread: Thread): Thread {
    const worker = new Worker(WORKER_URL);
    // Idle threads must not keep the process alive; close() ends them.
    worker.unref();
    thread.worker = worker;
    thread.scopes = undefined;
    thread.sending = undefined;
    thread.receiving = false;
    thread.online = false;
    worker.once('online', () => {
      thread.online = true;
      this.onRunning?.(this.running);
    });
    thread.startedAt = Date.now();
    worker.on('message', (r: DecodeResult) => {
      const job = thread.pending.get(r.id);
      thread.pending.delete(r.id);
      if (!job) return;
      if (r.failure !== undefined) job.reject(new FiretapError('FIRETAP_INTERNAL', `decoding failed: ${r.failure}`, { retryable: true }));
      else job.resolve(r);
    });
    worker.on('error', (err) => this.log.error({ err }, 'decode thread failed'));
    worker.on('exit', (code) => {
      thread.online = false;
      this.onRunning?.(this.running);
      const lost = [...thread.pending.values()];
      thread.pending.clear();
      for (const job of lost)
        job.reject(new FiretapError('FIRETAP_INTERNAL', `the decode thread stopped (exit code ${code}) while decoding this request`, { retryable: true }));
      if (this.closed) return;
      thread.quickStops = Date.now() - thread.startedAt < QUICK_STOP_MS ? thread.quickStops + 1 : 0;
      if (thread.quickStops >= MAX_QUICK_STOPS) {
        thread.retired = true;
        this.log.error(
          { code },
          `decode thread stopped ${MAX_QUICK_STOPS} times within ${QUICK_STOP_MS / 1000} s of its start; not starting it again (metric records are decoded on the main thread)`,
        );
        return;
      }
      this.log.warn({ code, requests: lost.length }, 'decode thread stopped; starting another');
      this.onRestart?.();
      this.spawn(thread);
    });
    return thread;
  }

  /**
   * True when every thread has at least `queued` requests in hand (posted, not yet answered), is being sent a
   * snapshot, is still starting or not started (start() starts them), or is retired. A request that waited for a thread to start (it takes a few
   * hundred milliseconds) would spend its deadline there: under a short deadline its exports then timed out
   * after reaching the backend, and Firehose's retry delivered them twice.
   */
  busy(queued: number): boolean {
    return this.threads.every((t) => t.retired || !t.online || t.receiving || t.pending.size >= queued);
  }

  /**
   * Rewrites every record of a metrics request into `out` (shared memory from the BufferPool) on the least busy
   * thread. The first request after a refresh waits until the thread has been sent the new snapshot (the next
   * ones, finding the thread busy, are decoded on the main thread meanwhile), and is decoded once the thread
   * has indexed it: ~0.5 s for 24,000 resources, the event loop held at most ~8 ms by the sending.
   */
  async decode(envelope: LocatedRecords, out: Uint8Array, opts: DecodeOptions, deadline = Infinity): Promise<DecodeResult> {
    if (this.closed) throw new FiretapError('FIRETAP_INTERNAL', 'the decode threads are stopped', { retryable: true });
    this.start();
    // The least busy running thread; one still starting only when none runs (its jobs wait for it).
    let thread: Thread | undefined;
    const rank = (t: Thread): number => (t.online ? 0 : 1_000_000) + t.pending.size;
    for (const t of this.threads) if (!t.retired && (!thread || rank(t) < rank(thread))) thread = t;
    if (!thread) throw new FiretapError('FIRETAP_INTERNAL', 'no decode thread is running', { retryable: true });
    if (opts.enrich && this.enrichment) {
      // A thread started again meanwhile has no snapshot: send it again (at most twice, then go on without).
      for (let attempt = 0; attempt < 2; attempt++) {
        const current = this.enrichment.snapshot();
        if (thread.scopes !== current) {
          const t = thread;
          t.scopes = current;
          t.receiving = true;
          const sending = this.sendSnapshot(t.worker, current).finally(() => {
            if (t.sending === sending) t.receiving = false;
          });
          t.sending = sending;
        }
        await thread.sending;
        if (thread.scopes === current) break;
      }
    }
    // While the snapshot was sent, the thread may have been retired: its worker would never answer.
    if (thread.retired) throw new FiretapError('FIRETAP_INTERNAL', 'the decode thread was retired while this request waited for it', { retryable: true });
    const bounds = Int32Array.from(envelope.bounds);
    const unescaped: Record<number, string> = {};
    for (let i = 0; i < envelope.count; i++) if (bounds[2 * i]! < 0) unescaped[i] = envelope.data(i);
    const id = this.nextId++;
    const job: DecodeJob = { id, body: envelope.body, out, bounds, unescaped, ...opts };
    const t = thread;
    return new Promise((resolve, reject) => {
      // A request must not wait on its thread past its deadline (a record that sent the rewrite into a loop,
      // say): the thread is stopped, which fails the requests it held as retryable, and another is started.
      const timer = Number.isFinite(deadline)
        ? setTimeout(
            () => {
              this.log.error({ requests: t.pending.size }, 'decode thread still decoding a request at its deadline; stopping it');
              void t.worker.terminate();
            },
            Math.max(0, deadline - Date.now()),
          )
        : undefined;
      timer?.unref();
      const settle = {
        resolve: (r: DecodeResult) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      t.pending.set(id, settle);
      t.worker.postMessage({ type: 'job', job }, [bounds.buffer]);
    });
  }

  /** Sends a snapshot to one thread in parts of SNAPSHOT_PART resources, each on its own turn of the event loop. */
  private async sendSnapshot(worker: Worker, snapshot: ReadonlyMap<string, ScopeIndex>): Promise<void> {
    const generation = ++this.generation;
    const post = (message: SnapshotMessage): void => worker.postMessage(message);
    post({ type: 'snapshot-begin', generation, filter: this.filter });
    for (const s of snapshot.values()) {
      const scope: ScopeHeader = { account: s.account, region: s.region, fetchedAt: s.fetchedAt, stale: s.stale };
      const resources = [...s.byArn.values()].map((r): DiscoveredResource => ({ arn: r.arn, tags: r.tags, attributes: r.attributes, sources: r.sources }));
      for (let i = 0; i === 0 || i < resources.length; i += SNAPSHOT_PART) {
        post({ type: 'snapshot-part', generation, scope, resources: resources.slice(i, i + SNAPSHOT_PART) });
        await nextTurn();
      }
    }
    post({ type: 'snapshot-end', generation });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
