import protobuf from 'protobufjs';

/**
 * What the wire readers and writers share: protobufjs's Reader and Writer, the wire types and tags. Field
 * numbers are those of the published OTLP protos (opentelemetry-proto v1); `test/unit/otlp/schema.test.ts`
 * cross-checks them against @opentelemetry/otlp-transformer.
 */
export const { Reader, Writer } = protobuf;
export type Reader = protobuf.Reader;
export type Writer = protobuf.Writer;

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** The tag byte(s) of a field: (number << 3) | wire type. */
export const tag = (field: number, wireType: number): number => ((field << 3) | wireType) >>> 0;

export class WireError extends Error {
  override name = 'WireError';
}
