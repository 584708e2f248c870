import closeWithGrace from 'close-with-grace';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, redactUserinfo } from './config/load.ts';
import { unknownSettings } from './config/unknown-settings.ts';
import { exporterTypes } from './export/registry.ts';
import type { Config } from './config/schema.ts';
import { VERSION } from './version.ts';

/**
 * Process entry: configuration → app → listen, and the graceful shutdown. The only file that exits.
 * On SIGTERM: /readyz turns 503 at once, the listener stays open for FIRETAP_SHUTDOWN_DELAY_MS while
 * the load balancer deregisters us, then closes; in-flight requests finish and are delivered; exit 0.
 */
async function main(): Promise<void> {
  // A ConfigError, here or from buildApp, ends the process with exit code 2 (below).
  const config: Config = loadConfig();
  const { app, lifecycle, scraper } = await buildApp(config);
  const log = app.log;

  if (config.accessKeys.length === 0) {
    log.warn('FIRETAP_ACCESS_KEYS is not set: every request is accepted without an access key. Set it before exposing this service.');
  }
  if (config.eventbridge.apiKeys.length === 0 && config.eventbridge.basicAuth.length === 0) {
    if (config.eventbridge.allowUnauthenticated)
      log.warn(
        'FIRETAP_EVENTBRIDGE_ALLOW_UNAUTHENTICATED is true and neither FIRETAP_EVENTBRIDGE_API_KEYS nor FIRETAP_EVENTBRIDGE_BASIC_AUTH is set: /eventbridge/events accepts every request.',
      );
    else
      log.info('neither FIRETAP_EVENTBRIDGE_API_KEYS nor FIRETAP_EVENTBRIDGE_BASIC_AUTH is set: /eventbridge/events answers 401 to every event until one is.');
  }
  for (const { name, didYouMean } of unknownSettings(process.env)) {
    log.warn({ variable: name, didYouMean }, `${name} is not a firetap setting and is ignored${didYouMean ? `; did you mean ${didYouMean}?` : ''}`);
  }
  for (const signal of ['metrics', 'logs'] as const) {
    const c = config.otlp[signal];
    for (const type of exporterTypes(config, signal)) {
      if (type === 'otlp-http')
        log.info({ signal, endpoint: redactUserinfo(c.endpoint ?? ''), protocol: c.protocol, compression: c.compression }, 'exporting over OTLP/HTTP');
      else if (!c.endpoint) log.warn({ signal }, 'no OTLP endpoint configured (OTEL_EXPORTER_OTLP_ENDPOINT): printing decoded data to stdout');
      else log.info({ signal, exporter: type }, `exporting to the ${type} exporter`);
    }
  }

  closeWithGrace({ delay: config.shutdownDelayMs + config.shutdownTimeoutMs, logger: { error: (m: unknown) => log.error(m) } }, async ({ signal, err }) => {
    // Only what no part of firetap caught reaches here (uncaughtException, unhandledRejection): background samplers
    // and the listener catch their own errors, so that running out of files (EMFILE) is survived, not fatal.
    if (err) log.error({ err, ...fatalHint(err) }, 'fatal error, shutting down');
    else log.info({ signal }, 'shutting down: draining in-flight requests');
    lifecycle.draining = true;
    if (!err && config.shutdownDelayMs > 0) await sleep(config.shutdownDelayMs);
    await app.close();
    log.info('shut down');
  });

  await app.listen({ port: config.port, host: config.host });
  if (scraper) {
    scraper.start();
    log.info(
      { regions: config.enrichment.regions, roles: config.enrichment.roles.map((r) => r.roleArn), refreshSeconds: config.enrichment.refreshSeconds },
      'enrichment on',
    );
  }
  log.info(
    { memoryBudgetBytes: config.memoryBudgetBytes, maxRssBytes: config.maxRssBytes },
    'memory budget for requests in flight (FIRETAP_MEMORY_BUDGET_BYTES), and the RSS above which requests are shed (FIRETAP_MAX_RSS_BYTES; 0: off)',
  );
  log.info({ version: VERSION, node: process.version }, 'firetap ready');
}

/** What to do about a fatal error, when firetap knows. */
function fatalHint(err: Error): { hint?: string } {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EMFILE' || code === 'ENFILE')
    return { hint: "out of file descriptors: raise the file limit (ulimit -n, the container runtime's nofile) or lower FIRETAP_MAX_CONNECTIONS" };
  return {};
}

type Subcommand = (args: string[], env: NodeJS.ProcessEnv, stdout: NodeJS.WritableStream, stderr: NodeJS.WriteStream) => Promise<number>;

/** `firetap replay …` and `firetap tap …`, each loaded only when run; anything else starts the service. */
const SUBCOMMANDS: Readonly<Record<string, () => Promise<Subcommand>>> = {
  replay: async () => (await import('./replay/cli.ts')).replayCommand,
  tap: async () => (await import('./tap/cli.ts')).tapCommand,
};

const subcommand = SUBCOMMANDS[process.argv[2] ?? ''];
const command = subcommand
  ? subcommand()
      .then((run) => run(process.argv.slice(3), process.env, process.stdout, process.stderr))
      .then((code) => process.exit(code))
  : main();

command.catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`firetap: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`firetap: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
