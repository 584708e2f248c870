/** One log event of a CloudWatch Logs subscription DATA_MESSAGE. */
export interface CloudWatchLogEvent {
  id: string;
  timestamp: number;
  message: string;
  extractedFields?: Record<string, unknown>;
}

/** The JSON CloudWatch Logs writes to a subscription destination, one per Firehose record. */
export interface CloudWatchLogsMessage {
  messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE';
  owner: string;
  logGroup: string;
  logStream: string;
  subscriptionFilters?: string[];
  logEvents: CloudWatchLogEvent[];
}

/**
 * The account and region an event belongs to: those of its extracted system fields (`@aws.account`,
 * `@aws.region`, set for centralised logging), else the message's owner and the delivery stream's region.
 */
export function eventIdentity(m: CloudWatchLogsMessage, e: CloudWatchLogEvent, region: string | undefined): [account: string, region: string | undefined] {
  const f = e.extractedFields;
  return [
    typeof f?.['@aws.account'] === 'string' ? (f['@aws.account'] as string) : m.owner,
    typeof f?.['@aws.region'] === 'string' ? (f['@aws.region'] as string) : region,
  ];
}
