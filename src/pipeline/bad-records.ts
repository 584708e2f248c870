import { formatDescription } from '../decode/formats.ts';
import { FiretapError } from '../errors.ts';
import { deadLetterFailure, type DeadLetterEntry } from './dead-letter.ts';
import type { Delivery, PipelineDeps } from './delivery.ts';

/**
 * Bad records beside good ones: the good ones were delivered, so the request is acknowledged, and each
 * bad record is logged once and kept in the dead-letter file when one is configured. When every record
 * is bad nothing was delivered, so the request is refused instead: Firehose retries it and finally
 * keeps it in its S3 backup, where it is not lost either.
 */
export async function setAside(deps: PipelineDeps, d: Delivery, bad: DeadLetterEntry[], total: number): Promise<void> {
  const first = bad[0]!;
  d.log.warn(
    {
      requestId: d.requestId,
      signal: d.signal,
      rejected: bad.length,
      records: total,
      reasons: countBy(bad, (b) => b.reason),
      first: { recordIndex: first.index, reason: first.reason, error: first.message },
    },
    'records rejected',
  );
  if (bad.length === total) {
    if (bad.every((b) => b.reason === 'wrong_route')) throw new FiretapError('FIRETAP_ALL_RECORDS_INVALID', `${first.message} (all ${total} record(s))`);
    if (bad.every((b) => b.reason === 'rejected_by_backend')) {
      throw new FiretapError('FIRETAP_EXPORT_REJECTED', `the backend refused all ${total} record(s); record ${first.index}: ${first.message}`);
    }
    throw new FiretapError(
      'FIRETAP_ALL_RECORDS_INVALID',
      `none of the ${total} record(s) could be decoded as ${formatDescription(d.signal, d.signal === 'metrics' ? d.metricFormat : d.logFormat)} data; record ${first.index}: ${first.message}`,
    );
  }
  if (!deps.deadLetter) return;
  try {
    await deps.deadLetter.write(bad);
    deps.metrics.deadLettered.inc({ signal: d.signal }, bad.length);
  } catch (err) {
    // The good records went out, but a bad one would be lost: have Firehose send the request again.
    throw deadLetterFailure(deps.deadLetter, `${bad.length} rejected record(s)`, err);
  }
}

/** How many items fall under each key: one log line summarises a request's bad records, whatever their number. */
function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
