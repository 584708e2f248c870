/**
 * The records of a request (a Firehose envelope, or a replayed backup object), located rather than parsed: each record's base64 text stays in the body buffer and is decoded only when its turn
 * comes, so a 90 MiB body never becomes 10,000 JS strings at once and the event loop is not held by
 * one giant JSON.parse.
 */
export interface LocatedRecords {
  readonly requestId: string | undefined;
  readonly timestamp: number | undefined;
  /** Number of records. */
  readonly count: number;
  /** Size of the body the records were located in (sizes the first OTLP batch). */
  readonly byteLength: number;
  /** Returns the base64 text of record `index` (decoded from JSON escapes when it had any). */
  data(index: number): string;
  /** The body the records were located in, and where: each record's [start, end) of base64 text (start < 0: escaped). */
  readonly body: Buffer;
  readonly bounds: readonly number[];
}
