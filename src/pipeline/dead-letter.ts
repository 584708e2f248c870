import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Signal } from '../config/schema.ts';
import { FiretapError } from '../errors.ts';

export interface DeadLetterEntry {
  readonly requestId: string;
  readonly signal: Signal;
  readonly index: number;
  readonly reason: string;
  readonly message: string;
  /** The record's data exactly as Firehose sent it (base64). */
  readonly data: string;
}

export interface DeadLetter {
  /** Where the entries go, for messages: a file path or an `s3://` URL. */
  readonly location: string;
  /** Resolves once the entries are stored; a request must not be acknowledged before. */
  write(entries: readonly DeadLetterEntry[]): Promise<void>;
}

/** The entries as JSON lines, each with the time it was written. */
export function deadLetterLines(entries: readonly DeadLetterEntry[], now = new Date()): string {
  const time = now.toISOString();
  return entries.map((e) => `${JSON.stringify({ time, ...e })}\n`).join('');
}

/**
 * Appends rejected records to `<dir>/firetap-dead-letter.jsonl`, one JSON line per record, so that a
 * record firetap cannot decode is kept rather than lost. Writes are serialised: lines of concurrent
 * requests never interleave.
 */
export function createDeadLetter(dir: string): DeadLetter {
  const location = join(dir, 'firetap-dead-letter.jsonl');
  let previous: Promise<unknown> = Promise.resolve();
  return {
    location,
    write(entries) {
      const text = deadLetterLines(entries);
      // The directory is made again if it went away (or could not be made before).
      const done = previous.then(() => mkdir(dir, { recursive: true })).then(() => appendFile(location, text));
      previous = done.catch(() => {});
      return done;
    },
  };
}

/**
 * A dead-letter write that failed: the request must not be acknowledged (its bad records would be
 * lost), so it fails as retryable and Firehose sends it again.
 */
export function deadLetterFailure(deadLetter: DeadLetter, what: string, err: unknown): FiretapError {
  return new FiretapError(
    'FIRETAP_EXPORT_UNAVAILABLE',
    `could not keep ${what} in the dead-letter store ${deadLetter.location}: ${(err as Error).message}; not acknowledged, so that it is sent again`,
    {
      retryable: true,
    },
  );
}
