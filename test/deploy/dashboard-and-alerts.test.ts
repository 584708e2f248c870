import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helm } from '../helpers/helm.ts';
import { type Service, startService } from '../helpers/service.ts';

/**
 * The Grafana dashboard and the PrometheusRule name only metrics the service exports: every metric in every panel's
 * and alert's PromQL is looked up in a scrape of the real service's /metrics (its `# TYPE` lines, which prom-client
 * writes for every registered metric, used or not).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const CHART = join(ROOT, 'helm/firetap');
const DASHBOARD = join(ROOT, 'deploy/grafana/firetap.json');

/** Metrics of other exporters the alerts may use: kube-state-metrics' restart counter (FiretapRestarting). */
const EXTERNAL = new Set(['kube_pod_container_status_restarts_total']);

const KEYWORDS = new Set(
  [
    'sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio',
    'by without on ignoring group_left group_right offset bool and or unless atan2 inf nan start end',
  ]
    .join(' ')
    .split(' '),
);
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** Index just past the bracket closing the one at `at` (strings inside are skipped). */
function closing(s: string, at: number, open: string, close: string): number {
  let depth = 0;
  for (let i = at; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"' || c === "'" || c === '`') i = endOfString(s, i) - 1;
    else if (c === open) depth++;
    else if (c === close && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced ${open} at ${at} in ${s}`);
}
function endOfString(s: string, at: number): number {
  for (let i = at + 1; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === s[at]) return i + 1;
  }
  throw new Error(`unterminated string at ${at} in ${s}`);
}

/** Metric names in a PromQL expression: identifiers outside strings, `{…}`, `[…]` and label lists that call nothing and are no keyword. */
function metricNames(expr: string): Set<string> {
  const names = new Set<string>();
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') i = endOfString(expr, i);
    else if (c === '{') i = closing(expr, i, '{', '}');
    else if (c === '[') i = closing(expr, i, '[', ']');
    else if (c === '#') i = expr.indexOf('\n', i) < 0 ? expr.length : expr.indexOf('\n', i);
    else if (c === '$') i = expr[i + 1] === '{' ? closing(expr, i + 1, '{', '}') : i + 1 + /^\w*/.exec(expr.slice(i + 1))![0].length;
    else if (/[0-9.]/.test(c)) i += /^[0-9.][0-9a-zA-Z_.]*/.exec(expr.slice(i))![0].length;
    else if (/[a-zA-Z_:]/.test(c)) {
      const word = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i))![0];
      i += word.length;
      const next = i + /^\s*/.exec(expr.slice(i))![0].length;
      if (expr[next] === '(') {
        if (LABEL_LISTS.has(word)) i = closing(expr, next, '(', ')');
      } else if (!KEYWORDS.has(word)) names.add(word);
    } else i++;
  }
  return names;
}

interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
  templating: { list: Array<{ name: string; type: string; query?: unknown; definition?: string }> };
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const panelExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr })));

let service: Service;
const types = new Map<string, string>();
beforeAll(async () => {
  service = await startService({ FIRETAP_ACCESS_KEYS: 'dashboard-test-key' });
  const text = await (await fetch(`${service.base}/metrics`)).text();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1]!, m[2]!);
}, 30_000);
afterAll(async () => {
  service?.child.kill('SIGTERM');
  await service?.exited;
});

/** The names of `names` the service does not export (a histogram's or summary's _bucket/_sum/_count count as its own). */
function missing(names: Iterable<string>): string[] {
  return [...names].filter((name) => {
    if (types.has(name) || EXTERNAL.has(name)) return false;
    const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
    return !(base && ['histogram', 'summary'].includes(types.get(base) ?? ''));
  });
}

describe('the PromQL metric-name extractor', () => {
  it.each([
    ['sum by (route, status) (rate(firetap_requests_total{job=~"$job", status=~"5.."}[$__rate_interval]))', ['firetap_requests_total']],
    ['histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y}"}[5m]))) > 0.5 unless on (pod) group_left b offset 10m', ['a_bucket', 'b']],
    ['a / ignoring(x) b or c{d="e"} > bool 1e3', ['a', 'b', 'c']],
    ['foo and max(bar) without (baz) > inf', ['foo', 'bar']],
    ['sum(rate(x:recorded[${__interval}])) # a comment naming not_a_metric', ['x:recorded']],
  ])('finds the metrics of %s', (expr, names) => {
    expect([...metricNames(expr)].sort()).toEqual(names.sort());
  });

  it('finds firetap metrics in the dashboard, and flags a name the service does not export', () => {
    const names = new Set(panelExprs.flatMap((e) => [...metricNames(e.expr)]));
    expect(names.size).toBeGreaterThan(20);
    for (const known of ['firetap_requests_total', 'firetap_export_duration_seconds_bucket', 'firetap_nodejs_eventloop_lag_p99_seconds']) {
      expect(names).toContain(known);
    }
    expect(missing(['firetap_requests_total', 'firetap_request_duration_seconds_count', 'firetap_no_such_metric', 'firetap_requests_total_bucket'])).toEqual([
      'firetap_no_such_metric',
      'firetap_requests_total_bucket',
    ]);
  });
});

describe('the Grafana dashboard', () => {
  it('names only metrics the service exports, in every panel and variable', () => {
    expect(types.size).toBeGreaterThan(50);
    for (const { where, expr } of panelExprs) expect(missing(metricNames(expr)), `${where}: ${expr}`).toEqual([]);
    const variables = dashboard.templating.list.filter((v) => v.type === 'query');
    expect(variables.length).toBeGreaterThan(0);
    for (const v of variables) {
      const metric = /label_values\((\w+)\s*,/.exec(v.definition ?? '')?.[1];
      expect(metric, v.name).toBeDefined();
      expect(missing([metric!]), v.name).toEqual([]);
    }
  });

  it('reads every panel from the ${datasource} variable and filters it by the job variable', () => {
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const text = readFileSync(DASHBOARD, 'utf8');
    expect(text).not.toMatch(/"uid": "(?!\$\{datasource\}|firetap")/);
    for (const { where, expr } of panelExprs) expect(expr, where).toContain('job=~"$job"');
  });

  it('answers "is everything flowing?" from requests to the pods', () => {
    const all = panelExprs.map((e) => e.expr).join('\n');
    for (const metric of [
      'firetap_requests_total',
      'firetap_records_total',
      'firetap_items_total',
      'firetap_records_rejected_total',
      'firetap_export_duration_seconds_bucket',
      'firetap_exports_total',
      'firetap_export_retries_total',
      'firetap_exports_in_flight',
      'firetap_enrichment_snapshot_age_seconds',
      'firetap_enrichment_lookups_total',
      'firetap_decode_threads_running',
      'firetap_nodejs_eventloop_lag_p99_seconds',
      'firetap_process_resident_memory_bytes',
      'firetap_memory_budget_bytes',
      'firetap_connections_open',
      'firetap_connections_refused_total',
    ]) {
      expect(all).toContain(metric);
    }
  });

  it('ships in the chart as an identical copy', () => {
    expect(readFileSync(join(CHART, 'dashboards/firetap.json'), 'utf8')).toBe(readFileSync(DASHBOARD, 'utf8'));
  });
});

type Manifest = { kind: string; metadata: { name: string; labels: Record<string, string> }; data?: Record<string, string>; spec?: any };
async function render(values: Record<string, unknown>): Promise<Manifest[]> {
  const dir = mkdtempSync(join(tmpdir(), 'firetap-values-'));
  const file = join(dir, 'values.yaml');
  writeFileSync(file, stringify({ image: { repository: 'example.com/firetap' }, ...values }));
  const result = await helm(['template', 'firetap', CHART, '-n', 'observability', '-f', file]).finally(() => rmSync(dir, { recursive: true, force: true }));
  expect(result.code, result.stderr).toBe(0);
  return parseAllDocuments(result.stdout)
    .map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJSON() as Manifest;
    })
    .filter(Boolean);
}
type Rule = { alert: string; expr: string; labels: Record<string, string>; annotations: Record<string, string> };
const ALERTS = [
  'FiretapAnswering5xx',
  'FiretapRecordsDeadLettered',
  'FiretapTagSnapshotStale',
  'FiretapNoRequests',
  'FiretapEventLoopDelayHigh',
  'FiretapRestarting',
  'FiretapStateStoreFailing',
];

describe('the chart with grafanaDashboard and prometheusRule on', () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render({
      grafanaDashboard: { enabled: true },
      prometheusRule: { enabled: true, failingRatio: 0.2, noRequestsMinutes: 25 },
    });
  }, 60_000);
  const rules = (): Rule[] => manifests.find((m) => m.kind === 'PrometheusRule')!.spec.groups.flatMap((g: { rules: Rule[] }) => g.rules);

  it('renders neither by default', async () => {
    const kinds = (await render({})).map((m) => `${m.kind}/${m.metadata.name}`);
    expect(kinds).not.toContain('PrometheusRule/firetap');
    expect(kinds).not.toContain('ConfigMap/firetap-dashboard');
  });

  it('renders the dashboard into a ConfigMap the Grafana sidecar picks up', () => {
    const configMap = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'firetap-dashboard')!;
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1', 'app.kubernetes.io/part-of': 'firetap' });
    expect(JSON.parse(configMap.data!['firetap.json']!)).toEqual(dashboard);
  });

  it('renders the seven alerts, with the thresholds from values, on the release job, each with its runbook section', () => {
    const rendered = rules();
    expect(rendered.map((r) => r.alert)).toEqual(ALERTS);
    const byName = Object.fromEntries(rendered.map((r) => [r.alert, r]));
    expect(byName.FiretapAnswering5xx!.expr).toMatch(/> 0\.2$/);
    expect(byName.FiretapNoRequests!.expr).toContain('[25m]');
    expect(byName.FiretapRestarting!.expr).toContain('namespace="observability"');
    const headings = new Set(
      [...readFileSync(join(ROOT, 'docs/operations.md'), 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const rule of rendered) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels.severity);
      expect(rule.annotations.description, rule.alert).toBeTruthy();
      const anchor = /^https:\/\/github\.com\/firetap\/firetap\/blob\/main\/docs\/operations\.md#(.+)$/.exec(rule.annotations.runbook_url ?? '')?.[1];
      expect(anchor, rule.alert).toBe(rule.alert.toLowerCase());
      expect(headings, rule.alert).toContain(anchor);
      if (!rule.alert.startsWith('FiretapRestarting')) expect(rule.expr, rule.alert).toContain('job="firetap"');
    }
  });

  it('alerts only on metrics the service exports (or kube-state-metrics, named as external)', () => {
    const names = new Set<string>();
    for (const rule of rules()) {
      const found = metricNames(rule.expr);
      expect(found.size, rule.alert).toBeGreaterThan(0);
      expect(missing(found), `${rule.alert}: ${rule.expr}`).toEqual([]);
      for (const name of found) names.add(name);
    }
    expect([...EXTERNAL].filter((name) => !names.has(name))).toEqual([]);
  });

  const promtool = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'promtool'))
    .find((path) => {
      try {
        readFileSync(path);
        return true;
      } catch {
        return false;
      }
    });
  it.skipIf(!promtool)('passes promtool check rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'firetap-rules-'));
    try {
      const file = join(dir, 'rules.yaml');
      writeFileSync(file, stringify(manifests.find((m) => m.kind === 'PrometheusRule')!.spec));
      const { stdout } = await promisify(execFile)(promtool!, ['check', 'rules', file]);
      expect(stdout).toMatch(/SUCCESS: 7 rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
