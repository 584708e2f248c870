import { encodeKeyValue } from '../otlp/wire.ts';
import { attributeField, intFieldSize, keyHead, stringFieldSize, writeIntField, writeStringField } from '../otlp/attribute-fields.ts';

/** The default flow log format, the one every flow log has unless it was created with a custom one. */
export const DEFAULT_VPC_FLOW_LOG_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

/** A flow log format: `${field}` tokens separated by single spaces, as the EC2 API takes it. */
export const VPC_FLOW_LOG_FORMAT_PATTERN = /^\$\{[a-z0-9-]+\}( \$\{[a-z0-9-]+\})*$/;

const DIGITS = /^\d{1,15}$/;
const ACCOUNT_ID = /^\d{12}$/;

/** Fields that hold numbers; written as integer attributes. */
const NUMERIC = new Set(['version', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'tcp-flags', 'traffic-path']);

/** Fields that have a semantic-convention name; every other field is `aws.vpc.flow_log.<field>`. */
const SEMCONV: Readonly<Record<string, string>> = {
  srcaddr: 'source.address',
  dstaddr: 'destination.address',
  srcport: 'source.port',
  dstport: 'destination.port',
};

/** IANA protocol numbers that have a `network.transport` value, as that attribute's LogRecord field (read only, shared). */
const TRANSPORT: Readonly<Record<string, Buffer>> = {
  '6': attributeField(encodeKeyValue('network.transport', 'tcp')),
  '17': attributeField(encodeKeyValue('network.transport', 'udp')),
};

export interface FlowLogFormat {
  readonly fields: readonly string[];
  readonly keys: readonly string[];
  /** Per field: the start of its KeyValue, written once: the key (field 1: tag, length, bytes) and the value's tag. */
  readonly heads: readonly Buffer[];
  readonly numeric: readonly boolean[];
}

const compiled = new Map<string, FlowLogFormat>();

/** Compiles a format once (the config has already checked its shape). */
export function compileFlowLogFormat(format: string): FlowLogFormat {
  let f = compiled.get(format);
  if (!f) {
    const fields = format.split(' ').map((token) => token.slice(2, -1));
    const keys = fields.map((field) => SEMCONV[field] ?? `aws.vpc.flow_log.${field.replaceAll('-', '_')}`);
    f = { fields, keys, heads: keys.map(keyHead), numeric: fields.map((field) => NUMERIC.has(field)) };
    compiled.set(format, f);
  }
  return f;
}

export interface ParsedLine {
  /** The line's attributes, one encoded KeyValue each (see LOG_ATTRIBUTES)… */
  readonly attributes?: Uint8Array[];
  /** …or written already as LogRecord attribute fields (see LOG_ATTRIBUTE_FIELDS). */
  readonly fields?: Uint8Array;
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
  const { fields, heads, numeric } = format;
  if (values.length !== fields.length) return undefined;
  // Checked and measured first, then every attribute written as a LogRecord field into one buffer: a protobufjs
  // Writer per attribute, each copied into the record on its own, was about half of a flow log line's time.
  let size = 0;
  let timestamp: number | undefined;
  let transport: Buffer | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (value === '-') continue;
    if (numeric[i]) {
      if (!DIGITS.test(value)) return undefined;
      const field = fields[i];
      if (field === 'start') timestamp = Number(value) * 1000;
      else if (field === 'protocol' && (transport = TRANSPORT[value])) size += transport.length;
      size += intFieldSize(heads[i]!, Number(value));
    } else {
      if (fields[i] === 'account-id' && !ACCOUNT_ID.test(value)) return undefined;
      size += stringFieldSize(heads[i]!, Buffer.byteLength(value));
    }
  }
  const buf = Buffer.allocUnsafe(size);
  let p = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (value === '-') continue;
    if (numeric[i]) {
      p = writeIntField(buf, p, heads[i]!, Number(value));
      if (transport && fields[i] === 'protocol') p += transport.copy(buf, p);
    } else {
      p = writeStringField(buf, p, heads[i]!, value, Buffer.byteLength(value));
    }
  }
  return { fields: buf, timestamp };
}
