import { Worker } from 'node:worker_threads';
import type { FastifyBaseLogger } from 'fastify';
import type { RecordErrorReason } from '../decode/record-error.ts';
import type { ScopeIndex } from '../enrich/snapshot.ts';
import { FiretapError } from '../errors.ts';
import type { FirehoseEnvelope } from '../firehose/envelope.ts';
import type { EncodedAttribute } from '../otlp/wire.ts';
import type { MetricFormat } from './record-codecs.ts';

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

/** main → decode thread: the tag cache's current snapshot, sent again whenever a refresh replaced it. */
export interface ScopesMessage {
  readonly type: 'scopes';
  readonly scopes: readonly ScopeIndex[];
}

/** The tag cache as the pool sees it: its current snapshot, a new map after every refresh. */
export interface SnapshotSource {
  snapshot(): ReadonlyMap<string, ScopeIndex>;
}

interface Thread {
  worker: Worker;
  /** Jobs posted and not yet answered. */
  readonly pending: Map<number, { resolve: (r: DecodeResult) => void; reject: (e: Error) => void }>;
  /** The snapshot this thread holds (its identity changes with every refresh). */
  scopes: ReadonlyMap<string, ScopeIndex> | undefined;
  /** When it was last started: a thread that keeps stopping soon after is not started again. */
  startedAt: number;
  quickStops: number;
  /** Given up on: requests are decoded elsewhere. */
  retired: boolean;
}

/** A thread that stops this soon after it started, this many times in a row, is not started again. */
const QUICK_STOP_MS = 10_000;
const MAX_QUICK_STOPS = 3;

const WORKER_URL = new URL(`./decode-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Threads that rewrite metric-stream records off the main thread, which is then left with HTTP, the
 * envelope and exports: on this machine's two cores it raised metric throughput by a quarter (see
 * the README's Performance section). A request's body lies in shared memory (BufferPool `shared`); its
 * thread writes the OTLP into a shared buffer the request provides and answers with where each record
 * ends, or why it is bad — the main thread then batches and exports as it would have in-thread. When
 * every thread has its hands full (busy()), deliver() decodes the request on the main thread instead.
 *
 * A thread that dies fails the requests it held (retryable: Firehose sends them again) and is started
 * anew — unless it stopped within 10 s of its start three times in a row (a thread that cannot start, say):
 * then it is retired, logged as an error, and the main thread decodes in its place. The tag cache lives on the main thread; each thread holds a copy of its snapshot, sent with the
 * first job after a refresh replaced it.
 */
export class DecodePool {
  private readonly threads: Thread[] = [];
  private nextId = 1;
  private closed = false;
  private readonly log: FastifyBaseLogger;
  private readonly enrichment: SnapshotSource | undefined;
  private readonly onRestart: (() => void) | undefined;

  constructor(size: number, opts: { log: FastifyBaseLogger; enrichment: SnapshotSource | undefined; onRestart?: () => void }) {
    this.log = opts.log;
    this.enrichment = opts.enrichment;
    this.onRestart = opts.onRestart;
    for (let i = 0; i < size; i++) this.threads.push(this.spawn({ pending: new Map(), scopes: undefined, startedAt: 0, quickStops: 0, retired: false } as unknown as Thread));
  }

  get size(): number {
    return this.threads.length;
  }

  private spawn(thread: Thread): Thread {
    const worker = new Worker(WORKER_URL);
    // Idle threads must not keep the process alive; close() ends them.
    worker.unref();
    thread.worker = worker;
    thread.scopes = undefined;
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
      const lost = [...thread.pending.values()];
      thread.pending.clear();
      for (const job of lost) job.reject(new FiretapError('FIRETAP_INTERNAL', `the decode thread stopped (exit code ${code}) while decoding this request`, { retryable: true }));
      if (this.closed) return;
      thread.quickStops = Date.now() - thread.startedAt < QUICK_STOP_MS ? thread.quickStops + 1 : 0;
      if (thread.quickStops >= MAX_QUICK_STOPS) {
        thread.retired = true;
        this.log.error({ code }, `decode thread stopped ${MAX_QUICK_STOPS} times within ${QUICK_STOP_MS / 1000} s of its start; not starting it again (metric records are decoded on the main thread)`);
        return;
      }
      this.log.warn({ code, requests: lost.length }, 'decode thread stopped; starting another');
      this.onRestart?.();
      this.spawn(thread);
    });
    return thread;
  }

  /** True when every thread has at least `queued` requests in hand (posted, not yet answered), or none is left. */
  busy(queued: number): boolean {
    return this.threads.every((t) => t.retired || t.pending.size >= queued);
  }

  /** Rewrites every record of a metrics request into `out` (shared memory from the BufferPool) on the least busy thread. */
  decode(envelope: FirehoseEnvelope, out: Uint8Array, opts: DecodeOptions): Promise<DecodeResult> {
    if (this.closed) return Promise.reject(new FiretapError('FIRETAP_INTERNAL', 'the decode threads are stopped', { retryable: true }));
    let thread: Thread | undefined;
    for (const t of this.threads) if (!t.retired && (!thread || t.pending.size < thread.pending.size)) thread = t;
    if (!thread) return Promise.reject(new FiretapError('FIRETAP_INTERNAL', 'no decode thread is running', { retryable: true }));
    if (opts.enrich && this.enrichment) {
      const current = this.enrichment.snapshot();
      if (thread.scopes !== current) {
        thread.worker.postMessage({ type: 'scopes', scopes: [...current.values()] } satisfies ScopesMessage);
        thread.scopes = current;
      }
    }
    const bounds = Int32Array.from(envelope.bounds);
    const unescaped: Record<number, string> = {};
    for (let i = 0; i < envelope.count; i++) if (bounds[2 * i]! < 0) unescaped[i] = envelope.data(i);
    const id = this.nextId++;
    const job: DecodeJob = { id, body: envelope.body, out, bounds, unescaped, ...opts };
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ type: 'job', job }, [bounds.buffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
