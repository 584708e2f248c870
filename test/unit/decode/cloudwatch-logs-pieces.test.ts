import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WHOLE_RECORD_BYTES, parseInPieces } from '../../../src/decode/cloudwatch-logs-pieces.ts';
import { parseCloudWatchLogsJson } from '../../../src/decode/cloudwatch-logs.ts';
import { logsMessage } from '../../helpers/cloudwatch-fixtures.ts';

/** A message of `n` events whose text is over WHOLE_RECORD_BYTES, so that it is read in pieces. */
function large(message: (i: number) => string, n = 2000, extra: Record<string, unknown> = {}) {
  return logsMessage({ events: Array.from({ length: n }, (_, i) => ({ timestamp: 1_795_000_000_000 + i, message: message(i), ...extra })) });
}

describe('reading a large CloudWatch Logs record in pieces', () => {
  it('gives what JSON.parse of the whole text gives, escapes and multi-byte characters included', () => {
    const m = large((i) => `line ${i} "quoted" \\ back},{"id":"x" tab\t é 日本 😀 \u0001 ${'x'.repeat(i % 300)}\n`);
    const bytes = Buffer.from(JSON.stringify(m));
    expect(bytes.length).toBeGreaterThan(4 * WHOLE_RECORD_BYTES);
    expect(parseInPieces(bytes)).toEqual(JSON.parse(bytes.toString('utf8')));
    expect(parseCloudWatchLogsJson(bytes)).toEqual([JSON.parse(bytes.toString('utf8'))]);
  });

  it('gives the same replacement characters as decoding the whole text when a message holds bytes that are not UTF-8', () => {
    const text = Buffer.from(JSON.stringify(large((i) => `m${i} ${'y'.repeat(100)} @@`)));
    // Each event's "@@" becomes a lone continuation byte and a truncated 3-byte sequence.
    for (let i = text.indexOf('@@'); i >= 0; i = text.indexOf('@@', i)) {
      text[i] = 0x80;
      text[i + 1] = 0xe6;
    }
    expect(parseInPieces(text)).toEqual(JSON.parse(text.toString('utf8')));
  });

  it('reads events whose extractedFields hold objects cut where an event would be, or leaves them to JSON.parse', () => {
    const m = large((i) => `m${i} ${'z'.repeat(200)}`, 1500, { extractedFields: { list: [{ a: 1 }, { id: 'x' }], '@aws.account': '111111111111' } });
    const bytes = Buffer.from(JSON.stringify(m));
    const whole = JSON.parse(bytes.toString('utf8'));
    const pieces = parseInPieces(bytes);
    if (pieces !== undefined) expect(pieces).toEqual(whole);
    expect(parseCloudWatchLogsJson(bytes)).toEqual([whole]);
  });

  it('leaves to JSON.parse a record that is not one message ending with its events', () => {
    const one = JSON.stringify(large((i) => `m${i} ${'w'.repeat(100)}`));
    const reordered = JSON.stringify((({ logEvents, ...rest }) => ({ logEvents, ...rest }))(JSON.parse(one)));
    for (const text of [`${one}\n${one}`, `${one} x`, reordered, one.replace('"logEvents":[', '"logEvents": [')]) {
      expect(parseInPieces(Buffer.from(text))).toBeUndefined();
    }
    expect(parseCloudWatchLogsJson(Buffer.from(`${one}\n${one}`))).toHaveLength(2);
  });

  it('refuses a record one of whose events is not valid JSON, as JSON.parse does', () => {
    const text = JSON.stringify(large((i) => `m${i} ${'v'.repeat(100)}`)).replace('"timestamp":1795000001500', '"timestamp":01795000001500');
    expect(parseInPieces(Buffer.from(text))).toBeUndefined();
    expect(() => parseCloudWatchLogsJson(Buffer.from(text))).toThrow('record is not JSON');
  });

  it('matches JSON.parse for any messages, formatting of the events and cut points', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: fc.string(),
            timestamp: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
            message: fc.string({ unit: 'binary', maxLength: 400 }),
          }),
          {
            minLength: 1,
            maxLength: 1200,
          },
        ),
        fc.constantFrom('', ' ', '\n'),
        (events, space) => {
          const m = { ...logsMessage({ events: [] }), logEvents: events };
          let text = JSON.stringify(m);
          if (space) text = text.replaceAll('},{', `}${space},${space}{`).replace(/\]\}$/, `${space}]${space}}${space}`);
          const bytes = Buffer.from(text);
          const pieces = parseInPieces(bytes);
          if (pieces !== undefined) expect(pieces).toEqual(JSON.parse(text));
          if (!space && bytes.length > WHOLE_RECORD_BYTES) expect(pieces).toBeDefined();
        },
      ),
      { numRuns: 40 },
    );
  });
});
