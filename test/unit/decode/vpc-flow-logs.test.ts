import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFlowLogFormat, DEFAULT_VPC_FLOW_LOG_FORMAT, parseFlowLogLine } from '../../../src/decode/vpc-flow-logs.ts';
import { Writer, encodeKeyValue } from '../../../src/otlp/wire.ts';

/**
 * What a line's attributes are as LogRecord fields (attributes = 6), each KeyValue written on its own by the general
 * encoder (the parser writes them all at once into one buffer).
 */
function reference(line: string, format: string) {
  const f = compileFlowLogFormat(format);
  const values = line.trim().split(/ +/);
  const numeric = new Set(['version', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'tcp-flags', 'traffic-path']);
  const attributes: Uint8Array[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (value === '-') continue;
    const field = f.fields[i]!;
    attributes.push(encodeKeyValue(f.keys[i]!, numeric.has(field) ? Number(value) : value));
    if (field === 'protocol' && (value === '6' || value === '17')) attributes.push(encodeKeyValue('network.transport', value === '6' ? 'tcp' : 'udp'));
  }
  const field = (kv: Uint8Array) => {
    const w = Writer.create();
    w.uint32((6 << 3) | 2).bytes(kv);
    return Buffer.from(w.finish()).toString('hex');
  };
  return attributes.map(field).join('');
}

const fieldsOf = (line: string, format: string) => {
  const parsed = parseFlowLogLine(line, compileFlowLogFormat(format));
  return parsed?.fields === undefined ? undefined : Buffer.from(parsed.fields).toString('hex');
};

const CUSTOM =
  '${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status} ${flow-direction} ${traffic-path}';

const number = fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(999_999_999_999_999, 2 ** 35, 16384, 127, 128));
const text = fc.stringMatching(/^[A-Za-z0-9.:_-]{1,40}$/).filter((v) => v !== '-');
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: a.map(String) }, { weight: 1, arbitrary: fc.constant('-') });

describe('VPC flow log lines', () => {
  it('writes the same attributes, byte for byte, as encoding each KeyValue on its own (default format)', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          maybe(number),
          fc.stringMatching(/^\d{12}$/),
          maybe(text),
          maybe(text),
          maybe(text),
          maybe(number),
          maybe(number),
          maybe(fc.constantFrom(6, 17, 1, 58)),
          maybe(number),
          maybe(number),
          maybe(number),
          maybe(number),
          maybe(fc.constantFrom('ACCEPT', 'REJECT')),
          fc.constantFrom('OK', 'NODATA', 'SKIPDATA'),
        ),
        (fields) => {
          const line = fields.join(' ');
          expect(fieldsOf(line, DEFAULT_VPC_FLOW_LOG_FORMAT)).toBe(reference(line, DEFAULT_VPC_FLOW_LOG_FORMAT));
          const parsed = parseFlowLogLine(line, compileFlowLogFormat(DEFAULT_VPC_FLOW_LOG_FORMAT));
          expect(parsed?.timestamp).toBe(fields[10] === '-' ? undefined : Number(fields[10]) * 1000);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('writes the same attributes for a custom format with every kind of field, and UTF-8 in a text field', () => {
    const line =
      '5 vpc-0a1b2c3d subnet-0a1b2c3d i-0abc1234def567890 eni-1235b8ca123456789 123456789010 IPv4 10.0.1.5 10.0.2.9 443 49152 10.0.1.5 10.0.2.9 6 4249 20 1795000010 1795000070 ACCEPT 19 OK ingress 1';
    expect(fieldsOf(line, CUSTOM)).toBe(reference(line, CUSTOM));
    const utf8 = line.replace('vpc-0a1b2c3d', 'vpc-ünïcode-☃');
    expect(fieldsOf(utf8, CUSTOM)).toBe(reference(utf8, CUSTOM));
  });

  it('keeps a line that does not fit the format as a plain line: another field count, a number that is not one, a bad account id', () => {
    const format = compileFlowLogFormat(DEFAULT_VPC_FLOW_LOG_FORMAT);
    const good = '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1795000010 1795000070 ACCEPT OK';
    expect(parseFlowLogLine(good, format)).toBeDefined();
    expect(parseFlowLogLine(`${good} extra`, format)).toBeUndefined();
    expect(parseFlowLogLine(good.replace(' 4249 ', ' 42x9 '), format)).toBeUndefined();
    expect(parseFlowLogLine(good.replace('123456789010', '12345'), format)).toBeUndefined();
  });
});
