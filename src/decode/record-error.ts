/** Why a record could not be used; also the `reason` label of firetap_records_rejected_total. */
export type RecordErrorReason = 'base64' | 'gzip' | 'too_large' | 'protobuf' | 'json' | 'format' | 'wrong_route' | 'rejected_by_backend';

/**
 * A record that cannot be decoded. Always permanent: the same bytes fail the same way on every
 * retry, so it is set aside (counted, logged, dead-lettered) and never blocks the records beside it.
 */
export class RecordError extends Error {
  override name = 'RecordError';
  readonly reason: RecordErrorReason;

  constructor(reason: RecordErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}
