import { RecordError } from './record-error.ts';

/**
 * Decodes a record's `data`: standard base64 with padding, as Firehose writes it. Buffer.from skips
 * characters it does not know, so a bad character shows as a decoded length short of what the text's
 * length promises; only then is the text examined, to say what was wrong. (A regular expression over
 * every record costs more than the decoding itself.) base64url's '-' and '_' decode as '+' and '/'.
 */
export function decodeBase64(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (text.length % 4 !== 0 || bytes.length !== (text.length / 4) * 3 - padding) {
    throw new RecordError('base64', `record data is not valid base64: ${describeBase64Problem(text)}`);
  }
  return bytes;
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
