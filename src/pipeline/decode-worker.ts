import { parentPort } from 'node:worker_threads';
import { RecordError } from '../decode/record-error.ts';
import { bodyDigestSync } from './body-digest.ts';
import type { Enrichment } from '../enrich/enrichment.ts';
import { EnrichmentStats } from '../enrich/enrichment-stats.ts';
import { buildScopeIndex, scopeKey, type DiscoveredResource, type ScopeIndex, type TagFilter } from '../enrich/snapshot.ts';
import { OtlpBatch } from '../otlp/batch.ts';
import type { DecodeJob, DecodeResult, ScopeHeader, SnapshotMessage } from './decode-pool.ts';
import { RECORD_CODECS, type MetricRecordContext } from './record-codecs.ts';

/** A decode thread (see DecodePool): the metric codecs of record-codecs.ts, run on a request's shared body. */

let scopes: ReadonlyMap<string, ScopeIndex> = new Map();
const enrichment: Enrichment = { scope: (account, region) => scopes.get(scopeKey(account, region)) };

function decode(job: DecodeJob): { result: DecodeResult; transfer: ArrayBuffer[] } {
  const body = Buffer.from(job.body.buffer, job.body.byteOffset, job.body.byteLength);
  const count = job.bounds.length / 2;
  const stats = new EnrichmentStats();
  // The metric codecs read only these fields; the logs' (derived, meterRecords, logs …) stay on the main thread.
  const ctx: MetricRecordContext = {
    resourceAttributes: job.resourceAttributes,
    enrichment: job.enrich ? enrichment : undefined,
    stats,
    metricFormat: job.metricFormat,
    attributesOn: job.attributesOn,
  };
  const batch = new OtlpBatch();
  batch.adopt(Buffer.from(job.out.buffer, job.out.byteOffset, job.out.byteLength), 0, 0);
  const ends = new Int32Array(count);
  const items = new Int32Array(count);
  const errors: Array<DecodeResult['errors'][number]> = [];
  for (let i = 0; i < count; i++) {
    const start = job.bounds[2 * i]!;
    const before = batch.items;
    try {
      RECORD_CODECS.metrics(start >= 0 ? body.toString('latin1', start, job.bounds[2 * i + 1]) : job.unescaped[i]!, batch, ctx);
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      errors.push({ index: i, reason: err.reason, message: err.message });
    }
    ends[i] = batch.bytes;
    items[i] = batch.items - before;
  }
  stats.settle();
  const length = batch.bytes;
  const written = batch.writer.buf;
  // Written in place, unless the records outgrew the buffer they were given: then a copy goes back.
  const inPlace = written.buffer === job.out.buffer && job.out.buffer instanceof SharedArrayBuffer;
  const spilled = inPlace ? undefined : new Uint8Array(written.subarray(0, length));
  const result: DecodeResult = {
    id: job.id,
    length,
    spilled,
    ends,
    items,
    errors,
    hits: [...stats.hits],
    misses: [...stats.misses],
    digest: bodyDigestSync(job.body),
  };
  return { result, transfer: [ends.buffer, items.buffer, ...(spilled ? [spilled.buffer] : [])] };
}

/** The snapshot being received: its parts, per scope, until its end arrives (a newer one replaces it). */
let receiving: { generation: number; filter: TagFilter; scopes: Map<string, { header: ScopeHeader; resources: DiscoveredResource[] }> } | undefined;

function receive(message: SnapshotMessage): void {
  if (message.type === 'snapshot-begin') {
    receiving = { generation: message.generation, filter: message.filter, scopes: new Map() };
    return;
  }
  if (!receiving || message.generation !== receiving.generation) return; // a part of a snapshot already replaced
  if (message.type === 'snapshot-part') {
    const key = scopeKey(message.scope.account, message.scope.region);
    let scope = receiving.scopes.get(key);
    if (!scope) receiving.scopes.set(key, (scope = { header: message.scope, resources: [] }));
    for (const r of message.resources) scope.resources.push(r);
    return;
  }
  const built = new Map<string, ScopeIndex>();
  for (const [key, { header, resources }] of receiving.scopes) {
    built.set(key, { ...buildScopeIndex(header.account, header.region, resources, receiving.filter, header.fetchedAt), stale: header.stale });
  }
  scopes = built;
  receiving = undefined;
}

parentPort!.on('message', (message: { type: 'job'; job: DecodeJob } | SnapshotMessage) => {
  if (message.type !== 'job') {
    receive(message);
    return;
  }
  try {
    const { result, transfer } = decode(message.job);
    parentPort!.postMessage(result, transfer);
  } catch (err) {
    const failure = err instanceof Error ? err.message : String(err);
    parentPort!.postMessage({
      id: message.job.id,
      length: 0,
      spilled: undefined,
      ends: new Int32Array(0),
      items: new Int32Array(0),
      errors: [],
      hits: [],
      misses: [],
      digest: '',
      failure,
    } satisfies DecodeResult);
  }
});
