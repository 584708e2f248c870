import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeBase64Transient } from '../../../src/decode/base64.ts';

describe.each([
  ['decodeBase64', decodeBase64],
  ['decodeBase64Transient (metric records)', decodeBase64Transient],
])('%s', (_, decode) => {
  it('decodes standard padded base64', () => {
    expect(decode('aGVsbG8=').toString()).toBe('hello');
    expect(decode('').length).toBe(0);
  });

  it('names the first illegal character', () => {
    expect(() => decode('XXXX*aGVsbG8=')).toThrow('illegal character "*" at index 4');
  });

  it('refuses text cut short (bad padding), which Buffer.from would silently accept', () => {
    expect(() => decode('aGVsbG8')).toThrow('length 7 is not a multiple of 4');
  });

  it('refuses padding in the middle', () => {
    expect(() => decode('aG==bG8=')).toThrow('illegal character "=" at index 2');
  });

  it('decodes records of every size exactly, small after large and past its reused buffer (64 KiB) and past the 4 MiB it keeps', () => {
    for (const size of [1, 100_000, 3, 65_536 * 3, 5 * 1024 * 1024, 10]) {
      const bytes = randomBytes(size);
      expect(Buffer.from(decode(bytes.toString('base64'))).equals(bytes)).toBe(true);
    }
  });
});
