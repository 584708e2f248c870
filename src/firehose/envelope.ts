import { badRequest } from '../errors.ts';

import type { LocatedRecords } from '../pipeline/located-records.ts';

/**
 * The Firehose request body, `{"requestId": "…", "timestamp": <ms>, "records": [{"data": "<base64>"}]}`
 * (AWS "HTTP endpoint delivery request and response specifications", protocol 1.0), located rather than
 * parsed (see LocatedRecords).
 */
export type FirehoseEnvelope = LocatedRecords;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_DEPTH = 64;

class Scanner {
  pos = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  fail(what: string): never {
    throw badRequest(`request body is not a Firehose request: ${what} at byte ${this.pos}`);
  }

  ws(): void {
    const b = this.buf;
    let p = this.pos;
    while (p < b.length) {
      const c = b[p]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    this.pos = p;
  }

  expect(c: number, what: string): void {
    this.ws();
    if (this.buf[this.pos] !== c) this.fail(`expected ${what}`);
    this.pos++;
  }

  /** Locates a JSON string starting at the current position: returns [start, end, hasEscapes] of its contents. */
  stringBounds(): [number, number, boolean] {
    this.ws();
    const b = this.buf;
    if (b[this.pos] !== QUOTE) this.fail('expected a string');
    const start = this.pos + 1;
    let end = b.indexOf(QUOTE, start);
    // Look for a backslash only up to the quote: searching the rest of the body for each string would
    // make a 90 MiB body of 10,000 records quadratic.
    const firstEscape = end === -1 ? b.indexOf(BACKSLASH, start) : b.subarray(start, end).indexOf(BACKSLASH);
    const escaped = firstEscape !== -1;
    if (escaped) {
      end = end === -1 ? firstEscape : start + firstEscape;
      while (end < b.length) {
        const c = b[end]!;
        if (c === BACKSLASH) end += 2;
        else if (c === QUOTE) break;
        else end++;
      }
    }
    if (end === -1 || end >= b.length) this.fail('unterminated string');
    this.pos = end + 1;
    return [start, end, escaped];
  }

  string(): string {
    const [start, end, escaped] = this.stringBounds();
    if (!escaped) return this.buf.toString('utf8', start, end);
    return this.unescape(start, end);
  }

  unescape(start: number, end: number): string {
    try {
      return JSON.parse(this.buf.toString('utf8', start - 1, end + 1)) as string;
    } catch {
      this.pos = start;
      return this.fail('invalid escape in string');
    }
  }

  number(): number {
    this.ws();
    const b = this.buf;
    const start = this.pos;
    while (this.pos < b.length) {
      const c = b[this.pos]!;
      // digits, minus, plus, dot, e, E
      if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45) this.pos++;
      else break;
    }
    const text = b.toString('latin1', start, this.pos);
    const n = Number(text);
    if (text === '' || !Number.isFinite(n)) {
      this.pos = start;
      this.fail('expected a number');
    }
    return n;
  }

  /** Skips any JSON value (for members firetap does not use). */
  skipValue(depth = 0): void {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.ws();
    const c = this.buf[this.pos];
    if (c === QUOTE) {
      this.stringBounds();
    } else if (c === 0x7b /* { */) {
      this.pos++;
      this.members(() => this.skipValue(depth + 1));
    } else if (c === 0x5b /* [ */) {
      this.pos++;
      this.elements(() => this.skipValue(depth + 1));
    } else if (this.literal('true') || this.literal('false') || this.literal('null')) {
      // consumed
    } else {
      this.number();
    }
  }

  literal(word: string): boolean {
    if (this.buf.toString('latin1', this.pos, this.pos + word.length) !== word) return false;
    this.pos += word.length;
    return true;
  }

  /** After `{`: calls `onValue(key)` for each member, positioned at its value. */
  members(onValue: (key: string) => void): void {
    this.ws();
    if (this.buf[this.pos] === 0x7d /* } */) {
      this.pos++;
      return;
    }
    for (;;) {
      const key = this.string();
      this.expect(0x3a, "':'");
      onValue(key);
      this.ws();
      const c = this.buf[this.pos];
      this.pos++;
      if (c === 0x2c /* , */) continue;
      if (c === 0x7d /* } */) return;
      this.pos--;
      this.fail("expected ',' or '}'");
    }
  }

  /** After `[`: calls `onElement(index)` for each element. */
  elements(onElement: (index: number) => void): void {
    this.ws();
    if (this.buf[this.pos] === 0x5d /* ] */) {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      onElement(i);
      this.ws();
      const c = this.buf[this.pos];
      this.pos++;
      if (c === 0x2c) continue;
      if (c === 0x5d) return;
      this.pos--;
      this.fail("expected ',' or ']'");
    }
  }
}

/**
 * Validates the whole envelope and locates every record's data before anything is decoded, so a
 * malformed body is refused (400) before any of it is exported. `maxRecords` bounds the work one
 * request can ask for (Firehose sends at most 10,000).
 */
export function scanEnvelope(body: Buffer, maxRecords: number): FirehoseEnvelope {
  const s = new Scanner(body);
  let requestId: string | undefined;
  let timestamp: number | undefined;
  // Pairs of [start, end) offsets of each record's base64 text; negative start = has JSON escapes.
  let bounds: number[] = [];
  let sawRecords = false;
  let lookalike: string | undefined;
  // Data with JSON escapes (rare: an escaped '/'), decoded while scanning so that a bad escape is a 400 now.
  const unescaped = new Map<number, string>();
  s.ws();
  if (body.length === 0) throw badRequest('request body is empty; expected a Firehose request {"requestId", "timestamp", "records"}');
  s.expect(0x7b, "'{' (the body must be a JSON object)");
  s.members((key) => {
    if (key === 'requestId') {
      s.ws();
      if (s.literal('null')) return;
      requestId = s.string();
    } else if (key === 'timestamp') {
      s.ws();
      if (s.literal('null')) return;
      timestamp = s.number();
    } else if (key === 'records') {
      sawRecords = true;
      s.ws();
      if (s.literal('null')) return;
      bounds = [];
      unescaped.clear();
      s.expect(0x5b, "'[' (records must be an array)");
      s.elements((index) => {
        if (index >= maxRecords) s.fail(`more than ${maxRecords} records`);
        s.expect(0x7b, `'{' (records[${index}] must be an object)`);
        let found = false;
        s.members((recordKey) => {
          if (recordKey !== 'data') return s.skipValue();
          const [start, end, escaped] = s.stringBounds();
          // A repeated "data" member replaces the earlier one, as JSON.parse would.
          if (found) bounds.length -= 2;
          if (escaped) unescaped.set(bounds.length / 2, s.unescape(start, end));
          bounds.push(escaped ? -start - 1 : start, end);
          found = true;
        });
        if (!found) s.fail(`records[${index}] has no "data"`);
      });
    } else {
      if (key.toLowerCase() === 'records') lookalike = key;
      s.skipValue();
    }
  });
  s.ws();
  if (s.pos !== body.length) s.fail('unexpected content after the JSON object');
  if (!sawRecords) {
    const hint = lookalike === undefined ? '' : ` (it has "${lookalike.slice(0, 20)}": keys are case-sensitive)`;
    throw badRequest(
      `request body has no "records" array${hint}; a Firehose request is {"requestId": "…", "timestamp": <ms>, "records": [{"data": "<base64>"}]}`,
    );
  }
  const located = bounds;
  return {
    requestId,
    timestamp,
    count: located.length / 2,
    byteLength: body.length,
    body,
    bounds: located,
    data(index: number): string {
      const start = located[index * 2]!;
      const end = located[index * 2 + 1]!;
      return start >= 0 ? body.toString('latin1', start, end) : unescaped.get(index)!;
    },
  };
}
