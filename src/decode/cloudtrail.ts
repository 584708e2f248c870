import { AttributeFields } from '../otlp/attribute-fields.ts';
import { LOG_ATTRIBUTE_FIELDS } from '../otlp/log-records.ts';
import type { CloudWatchLogsMessage } from './cloudwatch-logs-message.ts';
import type { NameMatcher } from './name-matcher.ts';
import { isJsonObject } from '../json-object.ts';

export interface CloudTrailOptions {
  /** Log groups whose events are CloudTrail records whatever their first key. */
  readonly logGroups: NameMatcher;
  /** Recognise CloudTrail records in any log group by how they start (`{"eventVersion"`). */
  readonly detect: boolean;
}

type Json = Record<string, unknown>;

/**
 * CloudTrail record fields → attributes: the semantic conventions' names where one exists, the rest
 * under `aws.cloudtrail.*`. The record itself stays the body.
 */
function cloudTrailAttributes(r: Json): Uint8Array | undefined {
  const out = new AttributeFields();
  const put = (key: string, value: unknown) => out.add(key, value);
  put('aws.cloudtrail.event_source', r.eventSource);
  put('aws.cloudtrail.event_name', r.eventName);
  put('aws.cloudtrail.event_type', r.eventType);
  put('aws.cloudtrail.event_category', r.eventCategory);
  put('aws.cloudtrail.event_id', r.eventID);
  put('aws.cloudtrail.read_only', r.readOnly);
  put('aws.cloudtrail.management_event', r.managementEvent);
  put('aws.cloudtrail.error_message', r.errorMessage);
  put('error.type', r.errorCode);
  put('client.address', r.sourceIPAddress);
  put('user_agent.original', r.userAgent);
  put('aws.request_id', r.requestID);
  put('cloud.region', r.awsRegion);
  put('cloud.account.id', r.recipientAccountId);
  const who = r.userIdentity;
  if (isJsonObject(who)) {
    put('aws.cloudtrail.user_identity.type', who.type);
    put('aws.cloudtrail.user_identity.arn', who.arn);
    put('aws.cloudtrail.user_identity.account_id', who.accountId);
    put('aws.cloudtrail.user_identity.principal_id', who.principalId);
    put('aws.cloudtrail.user_identity.invoked_by', who.invokedBy);
    const issuer = isJsonObject(who.sessionContext) && isJsonObject(who.sessionContext.sessionIssuer) ? who.sessionContext.sessionIssuer : undefined;
    if (issuer) put('aws.cloudtrail.user_identity.session_issuer.arn', issuer.arn);
  }
  return out.finish();
}

const STARTS_LIKE_CLOUDTRAIL = '{"eventVersion"';

/**
 * Turns the events of a message that are CloudTrail records into structured log records: fields as
 * attributes and `eventTime` as the time. An event that is not a CloudTrail record (not JSON, no
 * eventSource / eventName) is left exactly as it came.
 */
export function extractCloudTrail(m: CloudWatchLogsMessage, options: CloudTrailOptions): void {
  const configured = options.logGroups.matches(m.logGroup);
  if (!configured && !options.detect) return;
  for (const e of m.logEvents) {
    const message = e.message;
    if (!(configured ? message.trimStart().startsWith('{') : message.startsWith(STARTS_LIKE_CLOUDTRAIL))) continue;
    let record: unknown;
    try {
      record = JSON.parse(message);
    } catch {
      continue;
    }
    if (!isJsonObject(record) || typeof record.eventSource !== 'string' || typeof record.eventName !== 'string') continue;
    (e as { [LOG_ATTRIBUTE_FIELDS]?: Uint8Array | undefined })[LOG_ATTRIBUTE_FIELDS] = cloudTrailAttributes(record);
    const time = typeof record.eventTime === 'string' ? Date.parse(record.eventTime) : Number.NaN;
    if (Number.isFinite(time)) e.timestamp = time;
  }
}
