import { describe, expect, it } from 'vitest';
import { decodeBase64 } from '../../../src/decode/base64.ts';

describe('decodeBase64', () => {
  it('decodes standard padded base64', () => {
    expect(decodeBase64('aGVsbG8=').toString()).toBe('hello');
    expect(decodeBase64('').length).toBe(0);
  });

  it('names the first illegal character', () => {
    expect(() => decodeBase64('XXXX*aGVsbG8=')).toThrow('illegal character "*" at index 4');
  });

  it('refuses text cut short (bad padding), which Buffer.from would silently accept', () => {
    expect(() => decodeBase64('aGVsbG8')).toThrow('length 7 is not a multiple of 4');
  });

  it('refuses padding in the middle', () => {
    expect(() => decodeBase64('aG==bG8=')).toThrow('illegal character "=" at index 2');
  });
});
