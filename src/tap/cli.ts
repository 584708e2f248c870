import { parseArgs } from 'node:util';

export const TAP_USAGE = `usage: firetap tap [options]

Prints what a running firetap exports right now (GET /debug/tap; the service needs FIRETAP_TAP=on), one JSON
line per data point or log record, until the limit or the time is reached. The access key, when the service
has some, comes from FIRETAP_ACCESS_KEY (never a flag: it would show in ps).

  --url URL          the service (default http://localhost:8080)
  --signal S         metrics, logs or traces only
  --route R          /firehose/metrics, /firehose/logs or /eventbridge/events only
  --filter K=V       only lines where K is V (repeatable, all must match): namespace=AWS/EC2,
                     logGroup=/aws/lambda/x, attr.<key>=<value> (a record or resource attribute)
  --limit N          lines the service sends at most (default 1000, at most 100000)
  --seconds S        how long to listen (default 30, at most 300)
  -h, --help         this text

Lines go to stdout; how many the service dropped (a slow reader) and its summary go to stderr.`;

type Line = Record<string, unknown>;
type Match = (line: Line) => boolean;

/** Attribute keys a filter's short name stands for. */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  namespace: ['Namespace', 'aws.cloudwatch.namespace'],
  logGroup: ['aws.log.group.names', 'aws.log.group.name'],
};

const holds = (v: unknown, want: string): boolean => (Array.isArray(v) ? v.some((x) => holds(x, want)) : v !== undefined && v !== null && String(v) === want);

export function parseFilter(text: string): Match {
  const at = text.indexOf('=');
  const key = at > 0 ? text.slice(0, at) : '';
  const keys = key.startsWith('attr.') && key.length > 5 ? [key.slice(5)] : ALIASES[key];
  if (!keys) throw new Error(`--filter ${JSON.stringify(text)}: expected namespace=…, logGroup=… or attr.<key>=…`);
  const want = text.slice(at + 1);
  return (line) => {
    const attributes = (line.attributes ?? {}) as Line;
    const resource = (line.resource ?? {}) as Line;
    return keys.some((k) => holds(attributes[k], want) || holds(resource[k], want));
  };
}

/** Runs `firetap tap …`; returns the process exit code (main.ts exits with it). */
export async function tapCommand(args: string[], env: NodeJS.ProcessEnv, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  let matches: Match[];
  try {
    values = parse(args).values;
    matches = (values.filter ?? []).map(parseFilter);
  } catch (err) {
    stderr.write(`firetap tap: ${(err as Error).message}\n\n${TAP_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    stdout.write(`${TAP_USAGE}\n`);
    return 0;
  }
  let url: URL;
  try {
    url = new URL('/debug/tap', values.url);
  } catch {
    stderr.write(`firetap tap: --url ${JSON.stringify(values.url)} is not a URL\n`);
    return 2;
  }
  for (const name of ['signal', 'route', 'limit', 'seconds'] as const) if (values[name] !== undefined) url.searchParams.set(name, values[name]);
  const key = env.FIRETAP_ACCESS_KEY;
  let response: Response;
  try {
    response = await fetch(url, { headers: key ? { 'x-amz-firehose-access-key': key } : {} });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    stderr.write(`firetap tap: cannot reach ${url.origin}${cause ? ` (${cause})` : ''}: is firetap running there? (--url)\n`);
    return 1;
  }
  if (response.status !== 200) {
    const text = (await response.text()).slice(0, 500);
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {}
    const hint = response.status === 401 ? (key ? ': FIRETAP_ACCESS_KEY is not one of its keys' : ': set FIRETAP_ACCESS_KEY') : '';
    stderr.write(`firetap tap: ${url.origin} answered ${response.status}: ${message}${hint}\n`);
    return 1;
  }
  stderr.write(`firetap tap: connected to ${url.origin}${url.pathname}${url.search}\n`);
  let rest = '';
  const print = (text: string): void => {
    if (text === '') return;
    const line = JSON.parse(text) as Line;
    if ('dropped' in line || 'summary' in line) stderr.write(`${text}\n`);
    else if (matches.every((m) => m(line))) stdout.write(`${text}\n`);
  };
  const decoder = new TextDecoder();
  for await (const chunk of response.body ?? []) {
    const lines = (rest + decoder.decode(chunk as Uint8Array, { stream: true })).split('\n');
    rest = lines.pop()!;
    for (const l of lines) print(l);
  }
  print(rest);
  return 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      url: { type: 'string', default: 'http://localhost:8080' },
      signal: { type: 'string' },
      route: { type: 'string' },
      filter: { type: 'string', multiple: true },
      limit: { type: 'string' },
      seconds: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
}
