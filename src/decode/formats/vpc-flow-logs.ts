import { rawLogGroups } from '../raw-logs.ts';
import type { LogRecordFormat } from '../record-format.ts';

/** VPC flow log lines sent to Firehose directly, read in FIRETAP_VPC_FLOW_LOG_FORMAT; a line that does not parse is kept verbatim. */
export const VPC_FLOW_LOGS: LogRecordFormat<'vpc-flow-logs'> = {
  name: 'vpc-flow-logs',
  signal: 'logs',
  description: 'VPC flow log',
  raw: true,
  decode: (plain, ctx) => rawLogGroups(plain, 'vpc-flow-logs', ctx),
};
