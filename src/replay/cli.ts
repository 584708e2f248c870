import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { SIGNALS, type Signal } from '../config/schema.ts';
import { replay } from './replay.ts';

export const REPLAY_USAGE = `usage: firetap replay <path | s3://bucket/prefix> [options]

Sends Firehose S3 backup objects (failed-data backups: JSON lines with rawData; all-data backups and
Firehose-to-S3 objects: CloudWatch Logs records, metric-stream OpenTelemetry 1.0 frames or JSON lines,
gzipped or not) through firetap's pipeline to the configured OTLP exporter. The configuration is the
service's (environment or FIRETAP_CONFIG).

  --signal metrics|logs|traces   send every record to this route instead of detecting it per record
  --dry-run               decode and count only: nothing is sent, nothing remembered
  --state <file>          objects already replayed, skipped on the next run (default firetap-replay-state.jsonl)
  --fresh                 ignore the state file and replay everything
  --records-per-request N records per request through the pipeline (default 500)
  --concurrency N         objects replayed at once (default 2)
  -h, --help              this text`;

/** Runs `firetap replay …`; returns the process exit code (main.ts exits with it). */
export async function replayCommand(args: string[], env: NodeJS.ProcessEnv, stdout: NodeJS.WritableStream, stderr: NodeJS.WriteStream): Promise<number> {
  let parsed: ReturnType<typeof parseReplayArgs>;
  try {
    parsed = parseReplayArgs(args);
  } catch (err) {
    stderr.write(`firetap replay: ${(err as Error).message}\n\n${REPLAY_USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    stdout.write(`${REPLAY_USAGE}\n`);
    return 0;
  }
  const problems: string[] = [];
  if (positionals.length !== 1) problems.push(`expected one location (a path or s3://bucket/prefix), got ${positionals.length}`);
  if (values.signal !== undefined && !(SIGNALS as readonly string[]).includes(values.signal))
    problems.push(`--signal must be one of ${SIGNALS.join(', ')}, not ${JSON.stringify(values.signal)}`);
  const perRequest = Number(values['records-per-request']);
  if (!Number.isInteger(perRequest) || perRequest < 1 || perRequest > 10_000) problems.push('--records-per-request must be an integer from 1 to 10000');
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) problems.push('--concurrency must be an integer from 1 to 64');
  if (problems.length > 0) {
    stderr.write(`firetap replay: ${problems.join('; ')}\n\n${REPLAY_USAGE}\n`);
    return 2;
  }
  // Per-request log lines would drown the progress: warnings only unless asked for more.
  const config = loadConfig({ FIRETAP_LOG_LEVEL: 'warn', ...env });
  const summary = await replay(config, {
    location: positionals[0]!,
    signal: values.signal as Signal | undefined,
    dryRun: values['dry-run'],
    statePath: values.state,
    fresh: values.fresh,
    recordsPerRequest: perRequest,
    concurrency,
    progress: stderr,
  });
  const verb = values['dry-run'] ? 'would send' : 'sent';
  stderr.write(
    `${summary.replayed} of ${summary.objects} object(s) replayed, ${summary.skipped} skipped as already done; ${summary.records} records, ${verb} ${summary.items} data points / log records; ${summary.badRecords} bad records; ${summary.seconds.toFixed(1)} s\n`,
  );
  for (const r of summary.refused) stderr.write(`  not replayed from ${r.object}: ${r.error}\n`);
  if (summary.stoppedAt) stderr.write(`stopped at ${summary.stoppedAt.object}: ${summary.stoppedAt.error}\nrun the same command again to resume from there.\n`);
  stdout.write(`${JSON.stringify({ ...summary, dryRun: values['dry-run'] })}\n`);
  return summary.stoppedAt ? 1 : 0;
}

function parseReplayArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      signal: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      state: { type: 'string', default: 'firetap-replay-state.jsonl' },
      fresh: { type: 'boolean', default: false },
      'records-per-request': { type: 'string', default: '500' },
      concurrency: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
