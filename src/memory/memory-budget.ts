import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { FiretapError } from '../errors.ts';

/** How long a request waits for its share of the budget before it is answered 503 (Firehose retries it). */
export const BUDGET_WAIT_MS = 1000;

/** cgroup files that hold the container's memory limit: v2, then v1. */
const CGROUP_LIMIT_FILES = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];

/**
 * The container's memory limit in bytes, or undefined when there is none: `max` (v2), or a v1 value no
 * lower than the machine's memory (v1 writes 2^63 rounded down to a page for "no limit").
 */
export function containerMemoryLimit(files: readonly string[] = CGROUP_LIMIT_FILES, machineBytes = totalmem()): number | undefined {
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    if (text === 'max') return undefined;
    const bytes = Number(text);
    if (Number.isSafeInteger(bytes) && bytes > 0 && bytes < machineBytes) return bytes;
    return undefined;
  }
  return undefined;
}

/**
 * Default budget for decoded bytes in flight: half the memory the process may use — the container's limit,
 * else FIRETAP_MAX_RSS_BYTES, else the machine's memory. The other half is the runtime, the code, export
 * batches and the garbage not collected yet.
 */
export function defaultMemoryBudget(maxRssBytes: number, limit = containerMemoryLimit()): number {
  return Math.floor((limit ?? (maxRssBytes > 0 ? maxRssBytes : totalmem())) / 2);
}

/**
 * One budget for the decoded bytes of every request in flight: request bodies as they are read (after
 * Content-Encoding) and records as they are gunzipped. Bytes are taken before they are allocated, so many
 * gzip bombs at once cost at most the budget, not each its cap. Taking is a counter add when there is room;
 * without room a taker waits up to BUDGET_WAIT_MS for others to give back, then gets FIRETAP_OVERLOADED
 * (503 with Retry-After). A taker that holds all of what is taken may always take more, so that one
 * request larger than the budget still goes through when it is alone.
 */
export class MemoryBudget {
  readonly limit: number;
  private used = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly onRefused: (() => void) | undefined;

  /** `onRefused`: called for each taker refused (for the shed-requests metric). */
  constructor(limit: number, onRefused?: () => void) {
    this.limit = limit;
    this.onRefused = onRefused;
  }

  /** Bytes taken and not given back. */
  get inUse(): number {
    return this.used;
  }

  /** Takes `n` bytes when they fit (`own`: what the taker already holds). */
  tryTake(n: number, own: number): boolean {
    if (this.used + n > this.limit && this.used > own) return false;
    this.used += n;
    return true;
  }

  /** Takes `n` bytes, waiting for room up to BUDGET_WAIT_MS. */
  async take(n: number, own: () => number): Promise<void> {
    if (this.tryTake(n, own())) return;
    const until = Date.now() + BUDGET_WAIT_MS;
    for (;;) {
      const left = until - Date.now();
      if (left <= 0) {
        this.onRefused?.();
        throw new FiretapError(
          'FIRETAP_OVERLOADED',
          `firetap has ${this.used} bytes of requests in memory, its budget is ${this.limit} (FIRETAP_MEMORY_BUDGET_BYTES); retry later`,
          { retryable: true, retryAfterMs: 1000 },
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiting.push(done);
      });
      if (this.tryTake(n, own())) return;
    }
  }

  give(n: number): void {
    this.used -= n;
    // Every waiter looks again; those that still do not fit wait on.
    if (this.waiting.length > 0) for (const wake of this.waiting.splice(0)) wake();
  }
}

/** What one holder (a request's body, its current record) has taken from the budget. */
export class MemoryShare {
  private held = 0;
  private readonly budget: MemoryBudget;
  /** What the holder's shares hold together (a request's body and records): the taker the budget sees. */
  private readonly holder: { held: number };

  constructor(budget: MemoryBudget, holder: { held: number } = { held: 0 }) {
    this.budget = budget;
    this.holder = holder;
  }

  get bytes(): number {
    return this.held;
  }

  tryGrow(n: number): boolean {
    if (!this.budget.tryTake(n, this.holder.held)) return false;
    this.held += n;
    this.holder.held += n;
    return true;
  }

  /** Grows by `n` bytes, waiting briefly for room; throws FIRETAP_OVERLOADED without it. */
  async grow(n: number): Promise<void> {
    if (this.tryGrow(n)) return;
    await this.budget.take(n, () => this.holder.held);
    this.held += n;
    this.holder.held += n;
  }

  shrink(n: number): void {
    const given = Math.min(n, this.held);
    this.held -= given;
    this.holder.held -= given;
    this.budget.give(given);
  }

  /** Gives back everything held; the share may grow again. */
  release(): void {
    if (this.held > 0) this.shrink(this.held);
  }
}

/** A Firehose request's memory: its body, and the record being gunzipped. */
export class RequestMemory {
  readonly body: MemoryShare;
  readonly records: MemoryShare;
  /** The handler holds the body and gives the memory back itself when it is done. */
  handling = false;

  constructor(budget: MemoryBudget) {
    // One holder: a request alone may take past the budget for its records too, not only for its body.
    const holder = { held: 0 };
    this.body = new MemoryShare(budget, holder);
    this.records = new MemoryShare(budget, holder);
  }

  release(): void {
    this.body.release();
    this.records.release();
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    firetapMemory: RequestMemory;
  }
}

/**
 * Gives every request of this scope a RequestMemory, given back when the exchange ends ('close': answered,
 * refused before the handler ran, or abandoned by the client) — unless the handler holds it then: it is still
 * reading the body, and gives the memory back in its own `finally`.
 */
export function trackRequestMemory(app: FastifyInstance, budget: MemoryBudget): void {
  app.decorateRequest('firetapMemory', undefined as unknown as RequestMemory);
  app.addHook('onRequest', async (request, reply) => {
    const memory = new RequestMemory(budget);
    request.firetapMemory = memory;
    reply.raw.once('close', () => {
      if (!memory.handling) memory.release();
    });
  });
}
