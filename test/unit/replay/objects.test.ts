import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { recordsOfObject, splitJsonValues } from '../../../src/replay/objects.ts';
import { lengthPrefixed, metricStreamRequest, sampleDatapoints } from '../../helpers/cloudwatch-fixtures.ts';

const text = (b: Buffer, ranges: Array<[number, number]>) => ranges.map(([s, e]) => b.toString('utf8', s, e));

describe('backup objects', () => {
  it('split back-to-back JSON values, braces and quotes inside strings included', () => {
    const b = Buffer.from('{"a":"}{"}{"b":"\\"{"}\n{"c":[1,{"d":2}]}\n');
    expect(text(b, splitJsonValues(b))).toEqual(['{"a":"}{"}', '{"b":"\\"{"}', '{"c":[1,{"d":2}]}']);
    expect(() => splitJsonValues(Buffer.from('{"a":1}{"b":'))).toThrow('ends inside a JSON value');
    expect(() => splitJsonValues(Buffer.from('{"a":1} x'))).toThrow('outside any JSON object');
  });

  it('cut metric-stream frames into records of whole frames, even when the first frame is 123 bytes long (a "{")', async () => {
    const frames: Buffer[] = [];
    for (let n = 1; frames.length < 30; n++) {
      const frame = lengthPrefixed(metricStreamRequest({ account: '1', region: 'r', streamName: 's' }, sampleDatapoints((n % 4) + 1)));
      frames.push(frame);
    }
    const records = await recordsOfObject(gzipSync(Buffer.concat(frames)));
    expect(records.every((r) => r.signal === 'metrics')).toBe(true);
    expect(Buffer.concat(records.map((r) => r.data))).toEqual(Buffer.concat(frames));
    // A frame whose length prefix is 0x7b.
    const padded = metricStreamRequest({ account: '123456789012', region: 'eu-west-1', streamName: 's'.repeat(200) }, sampleDatapoints(1));
    const body = Buffer.from(padded).subarray(0, 0x7b);
    const looksLikeJson = Buffer.concat([Buffer.from([0x7b]), body]);
    expect(looksLikeJson[0]).toBe(0x7b);
    await expect(recordsOfObject(looksLikeJson)).resolves.toEqual([{ signal: 'metrics', data: looksLikeJson }]);
  });

  it('tell CloudWatch Logs records from metric-stream JSON lines', async () => {
    const object = Buffer.from('{"messageType":"CONTROL_MESSAGE","logEvents":[]}{"metric_stream_name":"s","account_id":"1"}\n');
    expect((await recordsOfObject(object)).map((r) => r.signal)).toEqual(['logs', 'metrics']);
    expect((await recordsOfObject(object, 'logs')).map((r) => r.signal)).toEqual(['logs', 'logs']);
  });
});
