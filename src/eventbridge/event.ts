import { LOG_ATTRIBUTES, type LogGroup } from '../otlp/log-records.ts';
import { ResourceBuilder } from '../otlp/resource.ts';
import { encodeKeyValue, encodeStringArrayKeyValue, type EncodedAttribute } from '../otlp/wire.ts';
import type { Enrichment } from '../enrich/enrichment.ts';
import type { EnrichmentStats } from '../enrich/enrichment-stats.ts';
import { FiretapError } from '../errors.ts';
import { isJsonObject } from '../json-object.ts';

/** The envelope every EventBridge event has (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html). */
export interface EventBridgeEvent {
  version?: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources?: string[];
  detail?: unknown;
}

export interface EventContext {
  readonly resourceAttributes: readonly EncodedAttribute[];
  readonly enrichment: Enrichment | undefined;
  readonly stats: EnrichmentStats;
}

/**
 * Parses an API destination's request body: an event in EventBridge's envelope, or — when the rule's
 * input transformer reshaped it — any JSON object, which is forwarded as it is. Throws a 400 naming
 * what is wrong otherwise (EventBridge does not retry a 400: the event goes to the rule's dead-letter
 * queue, where it is not lost).
 */
export function parseEvent(text: string): { event: EventBridgeEvent | undefined; json: Record<string, unknown> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new FiretapError('FIRETAP_BAD_REQUEST', `body is not JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(parsed))
    throw new FiretapError(
      'FIRETAP_BAD_REQUEST',
      `body is ${Array.isArray(parsed) ? 'a JSON array' : `JSON ${typeof parsed}`}, expected an EventBridge event (a JSON object)`,
    );
  const looksLikeEnvelope = 'detail-type' in parsed || 'source' in parsed;
  if (!looksLikeEnvelope) return { event: undefined, json: parsed };
  for (const field of ['id', 'detail-type', 'source', 'account', 'time', 'region'] as const) {
    if (typeof parsed[field] !== 'string') throw new FiretapError('FIRETAP_BAD_REQUEST', `EventBridge event has no string "${field}"`);
  }
  if (parsed.resources !== undefined && (!Array.isArray(parsed.resources) || !parsed.resources.every((r) => typeof r === 'string'))) {
    throw new FiretapError('FIRETAP_BAD_REQUEST', 'EventBridge event "resources" is not an array of strings');
  }
  return { event: parsed as unknown as EventBridgeEvent, json: parsed };
}

function encodeResource(event: EventBridgeEvent | undefined, ctx: EventContext): Uint8Array {
  const r = new ResourceBuilder().string('cloud.provider', 'aws');
  if (event) {
    r.string('cloud.account.id', event.account).string('cloud.region', event.region);
    // The first resource the tag cache knows names the OTLP resource: its ARN, tags and attributes.
    const scope = ctx.enrichment?.scope(event.account, event.region);
    if (scope && event.resources && event.resources.length > 0) {
      const known = event.resources.map((arn) => scope.byArn.get(arn)).find((found) => found !== undefined);
      if (known) {
        for (const [key, value] of Object.entries(known.added)) r.string(key, value);
        ctx.stats.hit('AWS/Events');
      } else {
        ctx.stats.miss('AWS/Events');
      }
    }
  }
  for (const a of ctx.resourceAttributes) r.add(a.key, a.encoded);
  return r.finish();
}

/**
 * One event → one log record: the event JSON as the body, its `time` as the time, `log.record.uid` its
 * id, `event.name` = `<source>:<detail-type>`, and `aws.eventbridge.*` for the envelope's fields; the
 * account and region on the resource, with the tags of the first of its `resources` firetap knows.
 */
export function eventLogGroup(text: string, parsed: ReturnType<typeof parseEvent>, ctx: EventContext): LogGroup {
  const { event } = parsed;
  const attributes: Uint8Array[] = [];
  let timestamp: number | undefined;
  if (event) {
    attributes.push(encodeKeyValue('event.name', `${event.source}:${event['detail-type']}`));
    attributes.push(encodeKeyValue('aws.eventbridge.source', event.source));
    attributes.push(encodeKeyValue('aws.eventbridge.detail_type', event['detail-type']));
    if (event.resources && event.resources.length > 0) attributes.push(encodeStringArrayKeyValue('aws.eventbridge.resources', event.resources));
    const t = Date.parse(event.time);
    if (Number.isFinite(t)) timestamp = t;
  }
  return {
    resource: encodeResource(event, ctx),
    events: [{ message: text, timestamp, id: event?.id, [LOG_ATTRIBUTES]: attributes }],
  };
}
