import { describe, expect, it } from 'vitest';
import { FiretapError } from '../../../src/errors.ts';
import { scanEnvelope } from '../../../src/firehose/envelope.ts';

const scan = (text: string, max = 10_000) => scanEnvelope(Buffer.from(text), max);
const datas = (text: string) => {
  const e = scan(text);
  return Array.from({ length: e.count }, (_, i) => e.data(i));
};

describe('scanEnvelope', () => {
  it('locates the request id, timestamp and every record', () => {
    const e = scan('{"requestId":"abc","timestamp":1600110760138,"records":[{"data":"aGk="},{"data":""}]}');
    expect(e.requestId).toBe('abc');
    expect(e.timestamp).toBe(1600110760138);
    expect([e.data(0), e.data(1)]).toEqual(['aGk=', '']);
  });

  it('accepts any JSON whitespace, member order and unknown members', () => {
    const text = ' {\n "records" : [ { "extra": {"a":[1,2,{"b":null}]}, "data" : "aGk=" } ] ,\t"timestamp":1.5e3, "other": true,"requestId":"x"}\r\n';
    expect(datas(text)).toEqual(['aGk=']);
    expect(scan(text).timestamp).toBe(1500);
  });

  it('decodes JSON escapes in data, such as an escaped slash', () => {
    expect(datas('{"records":[{"data":"ab\\/c="}]}')).toEqual(['ab/c=']);
  });

  it('treats null records as no records, and refuses a body without "records" as no Firehose request', () => {
    expect(scan('{"requestId":"a","records":null}').count).toBe(0);
    expect(() => scan('{"requestId":"a"}')).toThrow('request body has no "records" array; a Firehose request is');
    expect(() => scan('{"requestId":"a","RECORDS":[]}')).toThrow('(it has "RECORDS": keys are case-sensitive)');
  });

  it('keeps the last of repeated data members, as JSON.parse would', () => {
    expect(datas('{"records":[{"data":"AAAA","data":"BBBB"},{"data":"CCCC"}]}')).toEqual(['BBBB', 'CCCC']);
  });

  it.each([
    ['', 'request body is empty'],
    ['[]', "expected '{'"],
    ['{"records":[{"data":"aGk="}', "expected ',' or ']'"],
    ['{"records":{"data":"x"}}', "expected '[' (records must be an array)"],
    ['{"records":[{"nodata":"x"}]}', 'records[0] has no "data"'],
    ['{"records":["x"]}', 'records[0] must be an object'],
    ['{"records":[{"data":12}]}', 'expected a string'],
    ['{"requestId":"a"} trailing', 'unexpected content after the JSON object'],
    ['{"requestId":"a', 'unterminated string'],
    ['{ test: ', 'expected a string'],
  ])('refuses %j with a 400 naming the problem', (text, message) => {
    let error: unknown;
    try {
      scan(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FiretapError);
    expect((error as FiretapError).code).toBe('FIRETAP_BAD_REQUEST');
    expect((error as FiretapError).message).toContain(message);
  });

  it('refuses a bad escape inside data while scanning, before any record is delivered (found by fuzzing)', () => {
    expect(() => scan('{"records":[{"data":"aGk="},{"data":"\\\u0000wQ"}]}')).toThrow('invalid escape in string');
  });

  it('refuses more records than the limit', () => {
    const text = JSON.stringify({ records: Array.from({ length: 4 }, () => ({ data: '' })) });
    expect(() => scan(text, 3)).toThrow('more than 3 records');
  });

  it('refuses nesting deep enough to exhaust the stack', () => {
    const deep = `{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    expect(() => scan(deep)).toThrow('nesting too deep');
  });
});
