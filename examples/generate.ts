/**
 * Writes the sample Firehose requests used by the README's curl examples:
 *   npm run examples
 * They are committed; a test checks that they still match what this script produces.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GZIPPED, examplePayloads } from './payloads.ts';

const dir = import.meta.dirname;
for (const [name, body] of Object.entries(examplePayloads())) {
  writeFileSync(join(dir, name), body);
  if (GZIPPED.has(name)) writeFileSync(join(dir, `${name}.gz`), gzipSync(body, { level: 9 }));
}
