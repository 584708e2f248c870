import { RecordError } from './record-error.ts';

/**
 * Decodes a record's `data`: standard base64 with padding, as Firehose writes it. Buffer.from skips
 * characters it does not know, so a bad character shows as a decoded length short of what the text's
 * length promises; only then is the text examined, to say what was wrong. (A regular expression over
 * every record costs more than the decoding itself.) base64url's '-' and '_' decode as '+' and '/'.
 */
export function decodeBase64(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  checkDecodedLength(text, bytes.length);
  return bytes;
}

/**
 * decodeBase64 into a buffer reused from one call to the next: for records whose bytes are consumed before
 * the next record is decoded (the metric codecs copy everything they keep). Saves the allocation of every
 * record's bytes — some ten thousand per second, each its own ArrayBuffer for the garbage collector.
 */
export function decodeBase64Transient(text: string): Buffer {
  const max = Math.ceil(text.length / 4) * 3;
  if (max > MAX_SCRATCH) return decodeBase64(text);
  if (scratch.length < max) scratch = Buffer.allocUnsafe(Math.max(max, scratch.length * 2));
  const length = scratch.write(text, 'base64');
  checkDecodedLength(text, length);
  return scratch.subarray(0, length);
}

function checkDecodedLength(text: string, length: number): void {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (text.length % 4 !== 0 || length !== (text.length / 4) * 3 - padding) {
    throw new RecordError('base64', `record data is not valid base64: ${describeBase64Problem(text)}`);
  }
}

/** Records above this size are decoded into a buffer of their own, which is not kept. */
const MAX_SCRATCH = 4 * 1024 * 1024;
let scratch = Buffer.allocUnsafe(64 * 1024);

function describeBase64Problem(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (ok) continue;
    if (c === 61 /* = */ && i >= text.length - 2 && /^=+$/.test(text.slice(i))) break;
    return `illegal character ${JSON.stringify(text[i])} at index ${i}`;
  }
  return `length ${text.length} is not a multiple of 4 (truncated or unpadded)`;
}
