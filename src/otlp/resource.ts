import { Writer, WIRE_LEN, encodeStringKeyValue, tag } from './wire.ts';

/**
 * Writes the attributes of an OTLP Resource, each key once: the first value given for a key wins, so that
 * what the data says is written first and added attributes (tags, common and configured ones) never
 * overwrite it.
 */
export class ResourceBuilder {
  private readonly w = Writer.create();
  private readonly written = new Set<string>();

  /** Adds an encoded KeyValue unless its key is already there (or reserved). */
  add(key: string, encoded: Uint8Array): this {
    if (this.written.has(key)) return this;
    this.written.add(key);
    this.w.uint32(tag(1, WIRE_LEN)).bytes(encoded);
    return this;
  }

  string(key: string, value: string): this {
    return this.written.has(key) ? this : this.add(key, encodeStringKeyValue(key, value));
  }

  /** Keeps a key from being added later, whether or not it was written. */
  reserve(key: string): this {
    this.written.add(key);
    return this;
  }

  /** The encoded Resource message. */
  finish(): Uint8Array {
    return this.w.finish();
  }
}
