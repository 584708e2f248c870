import { rawLogGroups } from '../raw-logs.ts';
import type { LogRecordFormat } from '../record-format.ts';

/** Any record as one log record (multi-line messages, stack traces). */
export const RECORD: LogRecordFormat<'record'> = {
  name: 'record',
  signal: 'logs',
  description: 'raw log record',
  raw: true,
  decode: (plain, ctx) => rawLogGroups(plain, 'record', ctx),
};
