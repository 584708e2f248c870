import { encodeKeyValue } from '../otlp/wire.ts';
import type { ParsedLine } from './vpc-flow-logs.ts';
import { isJsonObject } from '../json-object.ts';

/** True when a line is (probably) an AWS WAF web ACL log: checked before JSON.parse, cheaply. */
export function looksLikeWafLog(line: string): boolean {
  return line.startsWith('{') && line.includes('"webaclId"') && line.includes('"httpRequest"');
}

/**
 * An AWS WAF web ACL log line (what WAF writes to a Firehose stream named `aws-waf-logs-…`): its
 * decision and the request it judged as attributes, its `timestamp` (ms) as the time. Undefined when
 * the line is not such a log (the caller keeps it as a plain line).
 */
export function parseWafLog(line: string): ParsedLine | undefined {
  let log: unknown;
  try {
    log = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isJsonObject(log) || typeof log.webaclId !== 'string' || !isJsonObject(log.httpRequest)) return undefined;
  const request = log.httpRequest;
  const attributes: Uint8Array[] = [];
  const put = (key: string, value: unknown) => {
    if (typeof value === 'string' && value !== '' && value !== '-') attributes.push(encodeKeyValue(key, value));
    else if (typeof value === 'number' && Number.isFinite(value)) attributes.push(encodeKeyValue(key, value));
  };
  put('aws.waf.web_acl.id', log.webaclId);
  put('aws.waf.action', log.action);
  put('aws.waf.terminating_rule.id', log.terminatingRuleId);
  put('aws.waf.terminating_rule.type', log.terminatingRuleType);
  put('aws.waf.http_source.name', log.httpSourceName);
  put('aws.waf.http_source.id', log.httpSourceId);
  put('aws.waf.response_code_sent', log.responseCodeSent);
  put('client.address', request.clientIp);
  put('aws.waf.country', request.country);
  put('http.request.method', request.httpMethod);
  put('url.path', request.uri);
  put('url.query', request.args);
  put('aws.waf.request_id', request.requestId);
  if (typeof request.httpVersion === 'string') {
    const m = /^HTTP\/(.+)$/.exec(request.httpVersion);
    if (m) put('network.protocol.version', m[1]);
  }
  if (Array.isArray(request.headers)) {
    for (const h of request.headers) {
      if (!isJsonObject(h) || typeof h.name !== 'string') continue;
      const name = h.name.toLowerCase();
      if (name === 'user-agent') put('user_agent.original', h.value);
      else if (name === 'host') put('server.address', h.value);
    }
  }
  if (Array.isArray(log.labels)) {
    const labels = log.labels.flatMap((l) => (isJsonObject(l) && typeof l.name === 'string' ? [l.name] : []));
    if (labels.length > 0) put('aws.waf.labels', labels.join(','));
  }
  const timestamp = typeof log.timestamp === 'number' && Number.isFinite(log.timestamp) ? log.timestamp : undefined;
  return { attributes, timestamp };
}
