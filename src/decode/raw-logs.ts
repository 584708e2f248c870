import { isUtf8 } from 'node:buffer';
import { LOG_ATTRIBUTES, LOG_ATTRIBUTE_FIELDS, type LogEvent, type LogGroup } from '../otlp/log-records.ts';
import { ResourceBuilder } from '../otlp/resource.ts';
import type { EncodedAttribute } from '../otlp/wire.ts';
import type { LogOptions } from './log-options.ts';
import { parseFlowLogLine, type ParsedLine } from './vpc-flow-logs.ts';
import { looksLikeWafLog, parseWafLog } from './waf-logs.ts';

/**
 * How a raw record (Direct PUT, a service writing to Firehose itself) is read:
 * - `lines`: one log record per line, verbatim;
 * - `record`: the whole record as one log record (multi-line messages, stack traces);
 * - `vpc-flow-logs` / `waf`: one log record per line, its fields as attributes when it parses;
 * - `auto`: per line, a WAF log or a flow log (in the configured format) when it is one, else verbatim.
 */
export type RawFormat = 'auto' | 'lines' | 'record' | 'vpc-flow-logs' | 'waf';

export interface RawLogsContext {
  readonly resourceAttributes: readonly EncodedAttribute[];
  readonly region: string | undefined;
  /** Account of the delivery stream (from X-Amz-Firehose-Source-Arn). */
  readonly account: string | undefined;
  readonly logs: LogOptions;
}

/** Resources are the same for every raw record of a request: encoded once per request. */
const resources = new WeakMap<RawLogsContext, Uint8Array>();

function resourceOf(ctx: RawLogsContext): Uint8Array {
  let resource = resources.get(ctx);
  if (!resource) {
    const r = new ResourceBuilder().string('cloud.provider', 'aws');
    if (ctx.account) r.string('cloud.account.id', ctx.account);
    if (ctx.region) r.string('cloud.region', ctx.region);
    for (const a of ctx.resourceAttributes) r.add(a.key, a.encoded);
    resource = r.finish();
    resources.set(ctx, resource);
  }
  return resource;
}

function event(line: string, parsed: ParsedLine | undefined): LogEvent {
  if (!parsed) return { message: line };
  const e: LogEvent = { message: line, timestamp: parsed.timestamp };
  if (parsed.attributes) e[LOG_ATTRIBUTES] = parsed.attributes;
  if (parsed.fields) e[LOG_ATTRIBUTE_FIELDS] = parsed.fields;
  return e;
}

/**
 * The log records of one raw record (already gunzipped once if it was gzipped). A record that is not
 * UTF-8 text becomes one log record whose body is its bytes. Never throws: whatever a line is, it is
 * forwarded, parsed when it can be.
 */
export function rawLogGroups(bytes: Buffer, format: RawFormat, ctx: RawLogsContext): LogGroup[] {
  const resource = resourceOf(ctx);
  if (!isUtf8(bytes)) return [{ resource, events: [{ message: bytes }] }];
  const text = bytes.toString('utf8');
  if (format === 'record') return [{ resource, events: [{ message: text.replace(/\r?\n$/, '') }] }];
  const events: LogEvent[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    events.push(event(line, parseLine(line, format, ctx.logs)));
  }
  return [{ resource, events }];
}

function parseLine(line: string, format: RawFormat, logs: LogOptions): ParsedLine | undefined {
  switch (format) {
    case 'lines':
    case 'record':
      return undefined;
    case 'waf':
      return parseWafLog(line);
    case 'vpc-flow-logs':
      return parseFlowLogLine(line, logs.vpcFlowLogFormat);
    case 'auto':
      if (looksLikeWafLog(line)) return parseWafLog(line);
      // A flow log line starts with a field of its format, never with '{' (that is JSON).
      return line.charCodeAt(0) === 0x7b ? undefined : parseFlowLogLine(line, logs.vpcFlowLogFormat);
  }
}
