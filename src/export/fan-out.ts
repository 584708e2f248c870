import type { LedgerStore } from '../state/ledger-store.ts';
import { success, type ExportRequest, type ExportResult, type Exporter } from './exporter.ts';

export interface FanOutOptions {
  /** Batches remembered as accepted by some members only; the oldest are forgotten first. */
  readonly maxRemembered?: number;
  /** How long such a batch is remembered: as long as the delivery ledger remembers a request. */
  readonly ttlMs?: number;
  /** Remembers in the replicas' state store instead (FIRETAP_STATE_URL): a retry on another replica reaches only the rest. */
  readonly store?: LedgerStore;
}

/**
 * Sends every request to all `members` at once; the export succeeds only when every member accepted it.
 * Each member retries on its own (its retrying decorator), so an in-process retry never re-sends to a
 * member that accepted. Across Firehose's retries of a request, a batch with a `batchKey` that some
 * members accepted and others did not is remembered (per process, bounded), and its retry goes only to
 * those that did not; a batch without one is sent to every member again (at least once per member).
 */
export function createFanOut(members: readonly Exporter[], options: FanOutOptions = {}): Exporter {
  if (options.store) return createSharedFanOut(members, options.store);
  const maxRemembered = options.maxRemembered ?? 10_000;
  const ttlMs = options.ttlMs ?? 2 * 60 * 60 * 1000 + 10 * 60 * 1000;
  const accepted = new Map<string, { readonly members: Set<number>; readonly at: number }>();

  const recall = (key: string): Set<number> | undefined => {
    const entry = accepted.get(key);
    if (entry && Date.now() - entry.at > ttlMs) accepted.delete(key);
    else if (entry) return entry.members;
    return undefined;
  };
  const remember = (key: string, members: Set<number>): void => {
    accepted.delete(key);
    accepted.set(key, { members, at: Date.now() });
    while (accepted.size > maxRemembered) accepted.delete(accepted.keys().next().value!);
  };

  return {
    async export(request: ExportRequest): Promise<ExportResult> {
      const key = request.batchKey;
      const before = key === undefined ? undefined : recall(key);
      const results = await Promise.all(members.map((member, i) => (before?.has(i) ? success : member.export(request))));
      if (key !== undefined) {
        const now = new Set(results.flatMap((result, i) => (result.status === 'success' ? [i] : [])));
        // Accepted by all: the delivery ledger records the batch from here on.
        if (now.size === members.length) accepted.delete(key);
        else if (now.size > 0) remember(key, now);
      }
      return combineResults(results);
    },
    async shutdown(): Promise<void> {
      await Promise.all(members.map((member) => member.shutdown()));
    },
  };
}

/** The fan-out whose memory of which members accepted a batch is the fleet's ledger store (one read per batch). */
function createSharedFanOut(members: readonly Exporter[], store: LedgerStore): Exporter {
  return {
    async export(request: ExportRequest): Promise<ExportResult> {
      const key = request.batchKey === undefined ? undefined : `fan-out\u0000${request.batchKey}`;
      const record = key === undefined ? undefined : await store.load(key);
      const results = await Promise.all(members.map((member, i) => (record?.delivered.has(String(i)) ? success : member.export(request))));
      if (key !== undefined && record !== undefined) {
        results.forEach((result, i) => {
          if (result.status === 'success' && !record.delivered.has(String(i))) store.add(key, record, String(i));
        });
        // Before the answer: the request's 200 (and another replica's retry) may follow at once.
        await store.settled(key);
      }
      return combineResults(results);
    },
    async shutdown(): Promise<void> {
      await Promise.all(members.map((member) => member.shutdown()));
    },
  };
}

/**
 * One result for several members': retryable if any was (the first one's message, the longest Retry-After),
 * else permanent if any was (the first one's), else success with the members' rejected items summed.
 */
export function combineResults(results: readonly ExportResult[]): ExportResult {
  const retryable = results.filter((r) => r.status === 'retryable');
  if (retryable.length > 0) {
    const waits = retryable.flatMap((r) => (r.retryAfterMs === undefined ? [] : [r.retryAfterMs]));
    return waits.length === 0 ? retryable[0]! : { ...retryable[0]!, retryAfterMs: Math.max(...waits) };
  }
  const permanent = results.find((r) => r.status === 'permanent');
  if (permanent) return permanent;
  let rejected = 0;
  const messages: string[] = [];
  for (const r of results) {
    if (r.status !== 'success') continue;
    rejected += r.rejected ?? 0;
    if (r.message) messages.push(r.message);
  }
  if (rejected === 0 && messages.length === 0) return success;
  return { status: 'success', rejected, message: messages.join('; ') };
}
