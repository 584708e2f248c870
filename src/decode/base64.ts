import { RecordError } from './record-error.ts';

const STANDARD_PADDED = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes a record's `data`: standard base64 with padding, as Firehose writes it. Buffer.from alone
 * would skip characters it does not know and decode garbage, so the text is checked first.
 */
export function decodeBase64(text: string): Buffer {
  if (text.length % 4 !== 0 || !STANDARD_PADDED.test(text)) {
    throw new RecordError('base64', `record data is not valid base64: ${describeBase64Problem(text)}`);
  }
  return Buffer.from(text, 'base64');
}

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
