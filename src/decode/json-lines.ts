import { RecordError } from './record-error.ts';

/**
 * The JSON values of a record that holds one per line (blank lines skipped), each with its 1-based line
 * number; a line that is not JSON fails the record, naming the line (`<what> line N is not JSON`).
 */
export function* jsonLines(text: string, what: string): Generator<{ line: number; value: unknown }> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new RecordError('json', `${what} line ${i + 1} is not JSON: ${(err as Error).message}`);
    }
    yield { line: i + 1, value };
  }
}
