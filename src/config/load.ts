import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, resolveOtlp, type Config } from './schema.ts';
import { isJsonObject } from '../json-object.ts';
import { defaultMemoryBudget } from '../memory/memory-budget.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;
type Json = { [key: string]: unknown };

/** Each environment variable firetap reads, the config path it sets, and how its text becomes a value. */
export const ENV: ReadonlyArray<[name: string, path: string, parse?: (text: string, name: string) => unknown]> = [
  ['PORT', 'port'],
  ['HOST', 'host'],
  ['FIRETAP_TLS_CERT_FILE', 'tls.certFile'],
  ['FIRETAP_TLS_KEY_FILE', 'tls.keyFile'],
  ['FIRETAP_ACCESS_KEYS', 'accessKeys', parseList],
  ['FIRETAP_MAX_BODY_BYTES', 'maxBodyBytes'],
  ['FIRETAP_MAX_RECORD_BYTES', 'maxRecordBytes'],
  ['FIRETAP_REQUEST_TIMEOUT_MS', 'requestTimeoutMs'],
  ['FIRETAP_DEAD_LETTER_DIR', 'deadLetterDir'],
  ['FIRETAP_DEAD_LETTER_URL', 'deadLetterUrl'],
  ['FIRETAP_MAX_CONCURRENT_REQUESTS', 'maxConcurrentRequests'],
  ['FIRETAP_MAX_RECEIVING_REQUESTS', 'maxReceivingRequests'],
  ['FIRETAP_MAX_CONNECTIONS', 'maxConnections'],
  ['FIRETAP_HEADERS_TIMEOUT_MS', 'headersTimeoutMs'],
  ['FIRETAP_BODY_TIMEOUT_MS', 'bodyTimeoutMs'],
  ['FIRETAP_DECODE_THREADS', 'decodeThreads'],
  ['FIRETAP_MAX_EVENT_LOOP_DELAY_MS', 'maxEventLoopDelayMs'],
  ['FIRETAP_MAX_HEAP_USED_BYTES', 'maxHeapUsedBytes'],
  ['FIRETAP_MAX_RSS_BYTES', 'maxRssBytes'],
  ['FIRETAP_MEMORY_BUDGET_BYTES', 'memoryBudgetBytes'],
  ['FIRETAP_RESOURCE_ATTRIBUTES', 'resourceAttributes', parseKeyValues],
  ['FIRETAP_LOG_LEVEL', 'logLevel'],
  ['FIRETAP_TAP', 'tap', parseBoolean],
  ['FIRETAP_SHUTDOWN_DELAY_MS', 'shutdownDelayMs'],
  ['FIRETAP_SHUTDOWN_TIMEOUT_MS', 'shutdownTimeoutMs'],
  ['FIRETAP_EXPORT_MAX_BATCH_BYTES', 'export.maxBatchBytes'],
  ['FIRETAP_EXPORT_CONCURRENCY', 'export.concurrency'],
  ['FIRETAP_EXPORT_MAX_IN_FLIGHT', 'export.maxInFlight'],
  ['FIRETAP_ENRICHMENT_REGIONS', 'enrichment.regions', parseList],
  ['FIRETAP_ENRICHMENT_ROLE_ARNS', 'enrichment.roles', parseRoles],
  ['FIRETAP_ENRICHMENT_REFRESH_SECONDS', 'enrichment.refreshSeconds'],
  ['FIRETAP_ENRICHMENT_READY_TIMEOUT_MS', 'enrichment.readyTimeoutMs'],
  ['FIRETAP_ENRICHMENT_TAG_KEYS', 'enrichment.tagKeys', parseList],
  ['FIRETAP_ENRICHMENT_EXCLUDE_TAG_KEYS', 'enrichment.excludeTagKeys', parseList],
  ['FIRETAP_ENRICHMENT_STS_REGION', 'enrichment.stsRegion'],
  ['FIRETAP_ENRICHMENT_ATTRIBUTES_ON', 'enrichment.attributesOn'],
  ['FIRETAP_METRICS_FORMAT', 'metrics.format'],
  ['FIRETAP_LOGS_FORMAT', 'logs.format'],
  ['FIRETAP_METRICS_EXPORTERS', 'metrics.exporters', parseList],
  ['FIRETAP_METRIC_NAMING', 'metrics.naming'],
  ['FIRETAP_LOGS_EXPORTERS', 'logs.exporters', parseList],
  ['FIRETAP_CLOUDWATCH_LOGS_GROUP', 'logs.cloudWatchLogGroup'],
  ['FIRETAP_VPC_FLOW_LOG_FORMAT', 'logs.vpcFlowLogFormat'],
  ['FIRETAP_CLOUDTRAIL_LOG_GROUPS', 'logs.cloudTrailLogGroups', parseList],
  ['FIRETAP_DETECT_CLOUDTRAIL', 'logs.detectCloudTrail', parseBoolean],
  ['FIRETAP_LOG_NAME_PATTERNS', 'logs.namePatterns', parseList],
  ['FIRETAP_LOG_METRICS', 'logs.metrics', parseList],
  ['FIRETAP_TRACES_EXPORTERS', 'traces.exporters', parseList],
  ['FIRETAP_SPAN_LOG_GROUPS', 'traces.logGroups', parseList],
  ['FIRETAP_TRACES_MAX_BATCH_SPANS', 'traces.maxBatchSpans'],
  ['FIRETAP_EVENTBRIDGE_API_KEY_HEADER', 'eventbridge.apiKeyHeader'],
  ['FIRETAP_EVENTBRIDGE_API_KEYS', 'eventbridge.apiKeys', parseList],
  ['FIRETAP_EVENTBRIDGE_BASIC_AUTH', 'eventbridge.basicAuth', parseList],
  ['FIRETAP_EVENTBRIDGE_ALLOW_UNAUTHENTICATED', 'eventbridge.allowUnauthenticated', parseBoolean],
  ['FIRETAP_EVENTBRIDGE_TIMEOUT_MS', 'eventbridge.timeoutMs'],
  ['FIRETAP_METER_RECORDS', 'meters.enabled', parseBoolean],
  ['FIRETAP_METER_MARKER', 'meters.marker'],
  ['FIRETAP_METER_DEDUPE_WINDOW_SECONDS', 'meters.dedupeWindowSeconds'],
  ['FIRETAP_METER_ENDPOINT', 'meters.endpoint'],
  ['FIRETAP_METER_HEADERS', 'meters.headers', parseHeaders],
  ['FIRETAP_METER_TIMEOUT_MS', 'meters.timeoutMs'],
  ['FIRETAP_PROMETHEUS_REMOTE_WRITE_URL', 'prometheusRemoteWrite.url'],
  ['FIRETAP_PROMETHEUS_REMOTE_WRITE_AUTH', 'prometheusRemoteWrite.auth'],
  ['FIRETAP_PROMETHEUS_REMOTE_WRITE_BEARER_TOKEN', 'prometheusRemoteWrite.bearerToken'],
  ['FIRETAP_PROMETHEUS_REMOTE_WRITE_BASIC_AUTH', 'prometheusRemoteWrite.basicAuth'],
  ['FIRETAP_PROMETHEUS_REMOTE_WRITE_HEADERS', 'prometheusRemoteWrite.headers', parseHeaders],
  ['FIRETAP_PROMETHEUS_REMOTE_WRITE_TIMEOUT_MS', 'prometheusRemoteWrite.timeoutMs'],
  ['FIRETAP_PROMETHEUS_REMOTE_WRITE_SIGV4_REGION', 'prometheusRemoteWrite.sigv4Region'],
  ['FIRETAP_STATE_URL', 'state.url'],
  ['FIRETAP_STATE_USERNAME', 'state.username'],
  ['FIRETAP_STATE_PASSWORD_FILE', 'state.passwordFile'],
  ['FIRETAP_STATE_IAM_CACHE_NAME', 'state.iamCacheName'],
  ['FIRETAP_STATE_IAM_REGION', 'state.iamRegion'],
  ['FIRETAP_STATE_KEY_PREFIX', 'state.keyPrefix'],
  ['FIRETAP_STATE_TIMEOUT_MS', 'state.timeoutMs'],
  ['FIRETAP_STATE_LEASE_TTL_MS', 'state.leaseTtlMs'],
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'otlp.endpoint'],
  ['OTEL_EXPORTER_OTLP_HEADERS', 'otlp.headers', parseHeaders],
  ['OTEL_EXPORTER_OTLP_COMPRESSION', 'otlp.compression'],
  ['OTEL_EXPORTER_OTLP_PROTOCOL', 'otlp.protocol'],
  ['OTEL_EXPORTER_OTLP_TIMEOUT', 'otlp.timeoutMs'],
  ['OTEL_EXPORTER_OTLP_AUTH', 'otlp.auth'],
  ['FIRETAP_SIGV4_REGION', 'otlp.sigv4.region'],
  ['FIRETAP_SIGV4_SERVICE', 'otlp.sigv4.service'],
  ...(['metrics', 'logs', 'traces'] as const).flatMap((signal) => {
    const prefix = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}`;
    return [
      [`${prefix}_ENDPOINT`, `otlp.${signal}.endpoint`],
      [`${prefix}_HEADERS`, `otlp.${signal}.headers`, parseHeaders],
      [`${prefix}_COMPRESSION`, `otlp.${signal}.compression`],
      [`${prefix}_PROTOCOL`, `otlp.${signal}.protocol`],
      [`${prefix}_TIMEOUT`, `otlp.${signal}.timeoutMs`],
      [`${prefix}_AUTH`, `otlp.${signal}.auth`],
    ] as Array<[string, string, ((text: string, name: string) => unknown)?]>;
  }),
];

/** Config paths whose values are credentials. */
const SECRET_PATHS = /^accessKeys|headers|externalId|^eventbridge\.(apiKeys|basicAuth)|^prometheusRemoteWrite\.(bearerToken|basicAuth)/;

/** `scheme://user:password@host` → `scheme://[redacted]@host`, wherever it appears in a text. */
export function redactUserinfo(text: string): string {
  return text.replace(/(\/\/)[^/@\s"]*@/g, '$1[redacted]@');
}

/**
 * Reads the optional config file named by FIRETAP_CONFIG, lays the environment over it (the
 * environment wins), validates everything at once and returns a deep-frozen Config. Every problem
 * is reported together, each naming the setting and the value it had.
 */
export function loadConfig(env: Env = process.env): Config {
  const fromFile = env.FIRETAP_CONFIG ? readConfigFile(env.FIRETAP_CONFIG) : {};
  const fromEnv: Json = {};
  const sourceOf = new Map<string, string>();
  for (const [name, path, parse] of ENV) {
    const text = env[name];
    // The OpenTelemetry specification treats an empty variable as unset.
    if (text === undefined || text.trim() === '') continue;
    setPath(fromEnv, path, parse ? parse(text.trim(), name) : text.trim());
    sourceOf.set(path, name);
  }
  const result = configSchema.safeParse(deepMerge(fromFile, fromEnv));
  if (!result.success) {
    const input = deepMerge(fromFile, fromEnv);
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      // An item of a list (`logs.namePatterns.1`, `enrichment.roles.0.externalId`) came from the variable that set the list.
      const keys = issue.path.map(String);
      let depth = keys.length;
      while (depth > 0 && !sourceOf.has(keys.slice(0, depth).join('.'))) depth--;
      const setting = depth > 0 ? keys.slice(0, depth).join('.') : issue.path.filter((key) => typeof key !== 'number').join('.');
      const envName = ENV.find(([, p]) => p === setting)?.[0];
      const item = setting === path ? '' : ` [${path.slice(setting.length + 1)}]`;
      const from = sourceOf.has(setting) ? `${sourceOf.get(setting)}${item}` : envName ? `${envName} (${path})` : path || 'config';
      const actual = getPath(input, path);
      // Keys and headers are secrets: name the setting, never echo its value (nor a URL's user and password).
      const secret = SECRET_PATHS.test(path);
      const shown = actual === undefined || secret ? '' : ` (actual: ${redactUserinfo(JSON.stringify(actual))})`;
      return `${from}: ${issue.message}${shown}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const { otlp, memoryBudgetBytes, ...rest } = result.data;
  return deepFreeze({ ...rest, memoryBudgetBytes: memoryBudgetBytes ?? defaultMemoryBudget(rest.maxRssBytes), otlp: resolveOtlp(otlp) });
}

function readConfigFile(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`FIRETAP_CONFIG: cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both kinds of file.
    parsed = parseYaml(text);
  } catch (err) {
    // The parser's first line says where; the lines after it quote the file, which may hold credentials.
    throw new ConfigError(`FIRETAP_CONFIG: ${path} is neither valid YAML nor JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`FIRETAP_CONFIG: ${path} must hold a mapping of settings, not ${Array.isArray(parsed) ? 'a list' : typeof parsed}`);
  }
  return parsed as Json;
}

function parseBoolean(text: string, name: string): boolean {
  const value = text.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`${name}: expected true or false, got ${JSON.stringify(text.slice(0, 40))}`);
}

function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `arn[|externalId],…`: roles to assume for other accounts, each with an optional external id. */
function parseRoles(text: string): Array<{ roleArn: string; externalId?: string }> {
  return parseList(text).map((item) => {
    const bar = item.indexOf('|');
    return bar < 0 ? { roleArn: item } : { roleArn: item.slice(0, bar).trim(), externalId: item.slice(bar + 1).trim() };
  });
}

const HTTP_TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** parseKeyValues for HTTP headers: every name must be a header name (an entry is named by its position). */
function parseHeaders(text: string, name: string): Record<string, string> {
  const headers = parseKeyValues(text, name);
  Object.keys(headers).forEach((key, i) => {
    if (!HTTP_TOKEN.test(key))
      throw new ConfigError(`${name}: entry ${i + 1} does not start with a header name (letters, digits and !#$%&'*+.^_\`|~- before the "=")`);
  });
  return headers;
}

/** `k1=v1,k2=v2` with percent-encoded values, as OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES define it. */
export function parseKeyValues(text: string, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  const items = parseList(text);
  // Such settings hold credentials (headers): an entry is named by its position, never quoted.
  const where = (i: number) => `${name}: entry ${i + 1} of ${items.length}`;
  items.forEach((item, i) => {
    const eq = item.indexOf('=');
    if (eq <= 0)
      throw new ConfigError(
        `${where(i)} is not key=value; expected key=value pairs separated by commas, such as Authorization=Basic%20dXNlcjpwYXNz (spaces as %20)`,
      );
    const key = item.slice(0, eq).trim();
    let value = item.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      throw new ConfigError(`${where(i)} has a value that is not valid percent-encoding (a % must be followed by two hex digits; write % itself as %25)`);
    }
    out[key] = value;
  });
  return out;
}

function setPath(target: Json, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Json;
  node[keys[keys.length - 1]!] = value;
}

function getPath(source: unknown, path: string): unknown {
  if (path === '') return undefined;
  let node = source;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Json)[key];
  }
  return node;
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isJsonObject(prev) && isJsonObject(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
