import type { CloudTrailOptions } from './cloudtrail.ts';
import type { LogMetricKind } from './log-metrics.ts';
import { compileFlowLogFormat, type FlowLogFormat } from './vpc-flow-logs.ts';
import { escapeRegExp, nameMatcher, type NameMatcher } from './name-matcher.ts';

/** How the logs decoders read what the config says, compiled once at start. */
export interface LogOptions {
  readonly vpcFlowLogFormat: FlowLogFormat;
  readonly cloudTrail: CloudTrailOptions;
  readonly names: NameRules;
  /** Metrics read out of log events and sent to the metrics exporter. */
  readonly metrics: ReadonlySet<LogMetricKind>;
  /** Log groups whose events are spans (FIRETAP_SPAN_LOG_GROUPS), sent to the traces exporter. */
  readonly spanLogGroups: NameMatcher;
}

export interface LogOptionsConfig {
  readonly vpcFlowLogFormat: string;
  readonly cloudTrailLogGroups: readonly string[];
  readonly detectCloudTrail: boolean;
  readonly namePatterns: readonly string[];
  readonly metrics: ReadonlyArray<LogMetricKind | 'none'>;
  readonly spanLogGroups?: readonly string[] | undefined;
}

export function compileLogOptions(config: LogOptionsConfig): LogOptions {
  return {
    vpcFlowLogFormat: compileFlowLogFormat(config.vpcFlowLogFormat),
    cloudTrail: { logGroups: nameMatcher(config.cloudTrailLogGroups), detect: config.detectCloudTrail },
    names: compileNamePatterns(config.namePatterns),
    metrics: new Set(config.metrics.filter((k): k is LogMetricKind => k !== 'none')),
    spanLogGroups: nameMatcher(config.spanLogGroups ?? ['aws/spans']),
  };
}

/**
 * Placeholders of a name pattern and the attribute each one sets. What a placeholder may match follows
 * the Kubernetes naming rules, so that `{namespace}.{pod}.{container}` splits `kube-system.coredns-5d.1.coredns`
 * at the right dots (pod names may hold dots, namespaces and container names may not).
 */
const PLACEHOLDERS: Readonly<Record<string, { key: string; pattern: string }>> = {
  cluster: { key: 'k8s.cluster.name', pattern: '[^/]+' },
  namespace: { key: 'k8s.namespace.name', pattern: '[a-z0-9-]+' },
  pod: { key: 'k8s.pod.name', pattern: '[a-z0-9.-]+' },
  container: { key: 'k8s.container.name', pattern: '[a-z0-9-]+' },
  node: { key: 'k8s.node.name', pattern: '[a-z0-9.-]+' },
  deployment: { key: 'k8s.deployment.name', pattern: '[a-z0-9.-]+' },
};

/** `<log group pattern>[ <log stream pattern>]`; `{name}` placeholders, `*` for anything. */
export const NAME_PATTERN_SYNTAX = /^(\S+)(?: (\S+))?$/;

interface CompiledPattern {
  readonly source: string;
  readonly group: RegExp;
  readonly stream: RegExp | undefined;
  readonly keys: readonly string[];
}

export interface NameRules {
  /** The attributes the first pattern whose log group (and, if it has one, log stream) part matches sets. */
  match(logGroup: string, logStream: string): Array<[string, string]> | undefined;
}

/** Compiles one side of a pattern; throws with a message naming the problem. */
function compileSide(text: string, keys: string[]): RegExp {
  let source = '^';
  let rest = text;
  while (rest.length > 0) {
    const open = rest.search(/[{*]/);
    if (open < 0) {
      source += escapeRegExp(rest);
      break;
    }
    source += escapeRegExp(rest.slice(0, open));
    if (rest[open] === '*') {
      source += '.*';
      rest = rest.slice(open + 1);
      continue;
    }
    const close = rest.indexOf('}', open);
    if (close < 0) throw new Error(`"{" without "}" in ${JSON.stringify(text)}`);
    const name = rest.slice(open + 1, close);
    const known = PLACEHOLDERS[name];
    if (!known)
      throw new Error(
        `unknown placeholder {${name}} in ${JSON.stringify(text)}; expected one of ${Object.keys(PLACEHOLDERS)
          .map((p) => `{${p}}`)
          .join(', ')}`,
      );
    if (keys.includes(known.key)) throw new Error(`placeholder {${name}} twice in ${JSON.stringify(text)}`);
    keys.push(known.key);
    source += `(${known.pattern})`;
    rest = rest.slice(close + 1);
  }
  return new RegExp(`${source}$`);
}

/** Checks one pattern; returns the problem, or undefined when it compiles (used by config validation). */
export function namePatternProblem(pattern: string): string | undefined {
  try {
    compileNamePattern(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function compileNamePattern(pattern: string): CompiledPattern {
  const m = NAME_PATTERN_SYNTAX.exec(pattern);
  if (!m) throw new Error(`expected "<log group pattern>" or "<log group pattern> <log stream pattern>", got ${JSON.stringify(pattern)}`);
  const keys: string[] = [];
  const group = compileSide(m[1]!, keys);
  const stream = m[2] === undefined ? undefined : compileSide(m[2], keys);
  if (keys.length === 0) throw new Error(`pattern ${JSON.stringify(pattern)} has no placeholder, so it would set nothing`);
  return { source: pattern, group, stream, keys };
}

export function compileNamePatterns(patterns: readonly string[]): NameRules {
  const compiled = patterns.map(compileNamePattern);
  return {
    match(logGroup, logStream) {
      for (const p of compiled) {
        const g = p.group.exec(logGroup);
        if (!g) continue;
        const s = p.stream ? p.stream.exec(logStream) : undefined;
        if (p.stream && !s) continue;
        const values = [...g.slice(1), ...(s ? s.slice(1) : [])];
        return p.keys.map((key, i) => [key, values[i]!] as [string, string]);
      }
      return undefined;
    },
  };
}
