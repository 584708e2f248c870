/**
 * Protobuf wire helpers for the OTLP messages firetap reads and writes without materialising them as objects:
 * the shared types (wire-format), reading (wire-read, wire-key-value), writing (wire-write) and the
 * KeyValues firetap encodes (wire-encode).
 */
export * from './wire-format.ts';
export * from './wire-read.ts';
export * from './wire-key-value.ts';
export * from './wire-write.ts';
export * from './wire-encode.ts';
