import { encodeKeyValue } from '../otlp/wire.ts';

/** The default flow log format, the one every flow log has unless it was created with a custom one. */
export const DEFAULT_VPC_FLOW_LOG_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

/** A flow log format: `${field}` tokens separated by single spaces, as the EC2 API takes it. */
export const VPC_FLOW_LOG_FORMAT_PATTERN = /^\$\{[a-z0-9-]+\}( \$\{[a-z0-9-]+\})*$/;

/** Fields that hold numbers; written as integer attributes. */
const NUMERIC = new Set(['version', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'tcp-flags', 'traffic-path']);

/** Fields that have a semantic-convention name; every other field is `aws.vpc.flow_log.<field>`. */
const SEMCONV: Readonly<Record<string, string>> = {
  srcaddr: 'source.address',
  dstaddr: 'destination.address',
  srcport: 'source.port',
  dstport: 'destination.port',
};

/** IANA protocol numbers that have a `network.transport` value. */
const TRANSPORT: Readonly<Record<string, string>> = { '6': 'tcp', '17': 'udp' };

export interface FlowLogFormat {
  readonly fields: readonly string[];
  readonly keys: readonly string[];
}

const compiled = new Map<string, FlowLogFormat>();

/** Compiles a format once (the config has already checked its shape). */
export function compileFlowLogFormat(format: string): FlowLogFormat {
  let f = compiled.get(format);
  if (!f) {
    const fields = format.split(' ').map((token) => token.slice(2, -1));
    f = { fields, keys: fields.map((field) => SEMCONV[field] ?? `aws.vpc.flow_log.${field.replaceAll('-', '_')}`) };
    compiled.set(format, f);
  }
  return f;
}

export interface ParsedLine {
  readonly attributes: Uint8Array[];
  readonly timestamp: number | undefined;
}

/**
 * Parses one flow log line in the given format: one attribute per field that has a value (`-` means
 * none), numbers as integers, the capture window's start as the time. Undefined when the line does not
 * have the format's shape (another field count, a number field that is not a number, an account id
 * that is not one), so that the caller keeps it as a plain line.
 */
export function parseFlowLogLine(line: string, format: FlowLogFormat): ParsedLine | undefined {
  const values = line.trim().split(/ +/);
  if (values.length !== format.fields.length) return undefined;
  const attributes: Uint8Array[] = [];
  let timestamp: number | undefined;
  for (let i = 0; i < values.length; i++) {
    const field = format.fields[i]!;
    const value = values[i]!;
    if (value === '-') continue;
    if (NUMERIC.has(field)) {
      if (!/^\d{1,15}$/.test(value)) return undefined;
      const n = Number(value);
      attributes.push(encodeKeyValue(format.keys[i]!, n));
      if (field === 'start') timestamp = n * 1000;
      if (field === 'protocol' && TRANSPORT[value]) attributes.push(encodeKeyValue('network.transport', TRANSPORT[value]));
    } else {
      if (field === 'account-id' && !/^\d{12}$/.test(value)) return undefined;
      attributes.push(encodeKeyValue(format.keys[i]!, value));
    }
  }
  return { attributes, timestamp };
}
