import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Signal } from '../config/schema.ts';

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
  readonly path: string;
  write(entries: readonly DeadLetterEntry[]): Promise<void>;
}

/**
 * Appends rejected records to `<dir>/firetap-dead-letter.jsonl`, one JSON line per record, so that a
 * record firetap cannot decode is kept rather than lost. Writes are serialised: lines of concurrent
 * requests never interleave.
 */
export function createDeadLetter(dir: string): DeadLetter {
  const path = join(dir, 'firetap-dead-letter.jsonl');
  let ready: Promise<unknown> = mkdir(dir, { recursive: true });
  return {
    path,
    write(entries) {
      const text = entries.map((e) => JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n').join('');
      const done = ready.then(() => appendFile(path, text));
      ready = done.catch(() => {});
      return done;
    },
  };
}
