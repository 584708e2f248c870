import { rawLogGroups } from '../raw-logs.ts';
import type { LogRecordFormat } from '../record-format.ts';

/** Any record, one log record per line, verbatim. */
export const LINES: LogRecordFormat<'lines'> = {
  name: 'lines',
  signal: 'logs',
  description: 'raw log lines',
  raw: true,
  decode: (plain, ctx) => rawLogGroups(plain, 'lines', ctx),
};
