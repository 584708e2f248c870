import { rawLogGroups } from '../raw-logs.ts';
import type { LogRecordFormat } from '../record-format.ts';

/** AWS WAF logs (JSON lines, as WAF writes to Firehose); a line that does not parse is kept verbatim. */
export const WAF: LogRecordFormat<'waf'> = {
  name: 'waf',
  signal: 'logs',
  description: 'AWS WAF log',
  raw: true,
  decode: (plain, ctx) => rawLogGroups(plain, 'waf', ctx),
};
