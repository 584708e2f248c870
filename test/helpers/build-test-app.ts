import { PassThrough } from 'node:stream';
import { onTestFinished } from 'vitest';
import { buildApp, type BuildOptions, type Firetap } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';

export interface TestApp extends Firetap {
  /** Every log line the app wrote, parsed. */
  logs(): Array<Record<string, any>>;
  /** Every line the debug exporter printed, parsed. */
  debug(): Array<Record<string, any>>;
  /** The first configured access key, if any. */
  accessKey: string | undefined;
}

/**
 * Builds firetap from environment-style settings, exactly as main.ts would, with logs and debug
 * output captured; closes it when the test ends.
 */
export async function buildTestApp(env: Record<string, string> = {}, options: BuildOptions = {}): Promise<TestApp> {
  const config = loadConfig({ FIRETAP_LOG_LEVEL: 'info', ...env });
  const logStream = new PassThrough();
  const debugOutput = new PassThrough();
  let logText = '';
  let debugText = '';
  logStream.on('data', (c: Buffer) => (logText += c.toString()));
  debugOutput.on('data', (c: Buffer) => (debugText += c.toString()));
  const firetap = await buildApp(config, { logStream, debugOutput, retry: { initialBackoffMs: 20, maxBackoffMs: 100 }, ...options });
  const accessKey = config.accessKeys[0];
  onTestFinished(() => firetap.app.close());
  const parse = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
  return { ...firetap, accessKey, logs: () => parse(logText), debug: () => parse(debugText) };
}

/**
 * Waits until `count` decode threads run (firetap_decode_threads_running): until then metric records are decoded on
 * the main thread, and a test of the threads' path would not be testing it.
 */
export async function untilDecodeThreadsRun(t: TestApp, count = 1): Promise<void> {
  // Threads start with the first metrics request they could take: one without records starts them.
  const start = await t.app.inject({
    method: 'POST',
    url: '/firehose/metrics',
    headers: { 'x-amz-firehose-request-id': 'start-decode-threads', ...(t.accessKey ? { 'x-amz-firehose-access-key': t.accessKey } : {}) },
    payload: { requestId: 'start-decode-threads', timestamp: 0, records: [] },
  });
  if (start.statusCode !== 200) throw new Error(`the request that starts the decode threads was answered ${start.statusCode}: ${start.body}`);
  for (let i = 0; i < 400; i++) {
    const text = (await t.app.inject({ url: '/metrics' })).body;
    if (new RegExp(`^firetap_decode_threads_running ${count}$`, 'm').test(text)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${count} decode thread(s) did not start within 4 s`);
}
