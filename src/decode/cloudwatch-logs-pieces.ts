/**
 * JSON.parse of a large subscription record without the record as one string. A string over 128 KiB lies in V8's
 * large-object space, and making one cost ~40× as much per byte as making short ones here (docs/performance.md):
 * for a 1 MiB request of short lines, more than the JSON.parse that follows. So a large record is read as its head
 * (everything but the events, with an empty `logEvents`) and the events in pieces of about PIECE_BYTES, cut where
 * one event ends and the next begins (`},{"`), each parsed as an array.
 *
 * The result is JSON.parse's of the whole text, or undefined (the caller parses the whole text): every piece is
 * valid JSON on its own, so the head's `[]` and the events' pieces put back together are the same valid text. A cut
 * that falls inside a nested value leaves a piece unbalanced, which JSON.parse refuses.
 */

/** Records up to this size are parsed as one string (as JSON.parse of a string under 128 KiB). */
export const WHOLE_RECORD_BYTES = 120 * 1024;
const PIECE_BYTES = 64 * 1024;
const EVENTS_KEY = Buffer.from('"logEvents":[');
const BETWEEN_EVENTS = Buffer.from('},{"');

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The parsed message of a record over WHOLE_RECORD_BYTES, or undefined when it cannot be read in pieces. */
export function parseInPieces(bytes: Buffer): Record<string, unknown> | undefined {
  const key = bytes.indexOf(EVENTS_KEY);
  if (key <= 0 || (bytes[key - 1] !== 0x2c && bytes[key - 1] !== 0x7b)) return undefined;
  const first = key + EVENTS_KEY.length;
  // The events array closes the message: `]`, then `}`, then only white space.
  let end = bytes.length - 1;
  while (isSpace(bytes[end])) end--;
  if (bytes[end] !== 0x7d) return undefined;
  end--;
  while (isSpace(bytes[end])) end--;
  if (bytes[end] !== 0x5d || end < first) return undefined;
  try {
    const head: unknown = JSON.parse(`${bytes.toString('utf8', 0, first)}]}`);
    if (head === null || typeof head !== 'object' || Array.isArray(head)) return undefined;
    const events = (head as { logEvents?: unknown }).logEvents;
    if (!Array.isArray(events) || events.length !== 0) return undefined;
    for (let start = first; start < end; ) {
      const cut = end - start > PIECE_BYTES ? bytes.indexOf(BETWEEN_EVENTS, start + PIECE_BYTES) : -1;
      const stop = cut < 0 || cut >= end ? end : cut + 1;
      const piece: unknown[] = JSON.parse(`[${bytes.toString('utf8', start, stop)}]`);
      for (const e of piece) events.push(e);
      // Past the cut's comma: the next piece starts at its event's `{`.
      start = stop === end ? end : stop + 1;
    }
    return head as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
