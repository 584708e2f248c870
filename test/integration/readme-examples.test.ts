import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { examplePayloads } from '../../examples/payloads.ts';
import { buildTestApp } from '../helpers/build-test-app.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

/** The shell blocks of the README that post to a local service (Try it, Log sources, EventBridge events …). */
function readmeCurlCommands(): string[] {
  const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
  if (!/^## Try it$/m.test(readme)) throw new Error('README has no "## Try it" section');
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((m) => m[1]!.replace(/\\\n\s*/g, ' ').trim())
    .filter((c) => c.startsWith('curl') && /localhost:8080\/(firehose|eventbridge)\//.test(c));
}

describe('the README examples', () => {
  it('ship sample payloads that match what examples/generate.ts writes', () => {
    for (const [name, body] of Object.entries(examplePayloads())) {
      expect(readFileSync(resolve(ROOT, 'examples', name), 'utf8')).toBe(body);
    }
  });

  it('work verbatim against the service: every curl gets a Firehose 200 and the data is printed', async () => {
    const commands = readmeCurlCommands();
    expect(commands.length).toBeGreaterThanOrEqual(10);
    // As the README starts it for its EventBridge example (the route is closed without credentials).
    const t = await buildTestApp({ FIRETAP_EVENTBRIDGE_API_KEYS: 'local-key' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (t.app.server.address() as { port: number }).port;
    for (const command of commands) {
      // The answer ends with a newline, so the shell prompt does not land on the JSON's line.
      expect(command, command).toMatch(/^curl -sS -w '\\n' /);
      const { stdout } = await run('bash', ['-c', command.replaceAll('localhost:8080', `127.0.0.1:${port}`)], { cwd: ROOT });
      const answer = JSON.parse(stdout);
      if (command.includes('/eventbridge/')) expect(answer, command).toEqual({ id: expect.any(String), status: 'delivered' });
      else expect(answer, command).toEqual({ requestId: expect.any(String), timestamp: expect.any(Number) });
    }
    const lines = t.debug();
    expect(lines.filter((l) => l.signal === 'metrics').length).toBeGreaterThanOrEqual(12); // 6 data points, plain and gzipped
    const logs = lines.filter((l) => l.signal === 'logs');
    expect(logs.map((l) => l.body)).toContain('{"level":"info","msg":"order placed","orderId":"o-1842","amount":42.5}\n');
    expect(logs.filter((l) => l.attributes['aws.vpc.flow_log.action'] === 'REJECT')).toHaveLength(1);
    expect(logs.filter((l) => l.attributes['event.name'] === 'aws.ec2:EC2 Instance State-change Notification')).toHaveLength(1);
    expect(logs.filter((l) => l.attributes['aws.cloudtrail.event_name'] === 'TerminateInstances')).toHaveLength(1);
    // The aws/spans sample: its four spans, once, ids in hex and times to the nanosecond.
    const spans = lines.filter((l) => l.signal === 'traces');
    expect(spans.map((s) => s.name).sort()).toEqual(['DynamoDB.PutItem', 'GET /cart/{id}', 'checkout', 'legacy-api']);
    expect(spans.find((s) => s.name === 'legacy-api')).toMatchObject({ traceId: '5759e988bd862e3fe1be46a994272793', startTimeUnixNano: '1795000002123456789' });
    const metricNames = new Set(lines.filter((l) => l.signal === 'metrics').map((l) => l.metric));
    for (const name of ['aws.lambda.duration', 'aws.lambda.init_duration', 'amazonaws.com/shop/OrderValue', 'meter.Checkouts'])
      expect(metricNames).toContain(name);
    // Metric-stream points: 6 plain, 6 gzipped, and the 0.7.0 request's 3, each with its dimensions as attributes.
    const streamed = lines.filter((l) => l.signal === 'metrics' && l.resource['aws.exporter.arn']);
    expect(streamed).toHaveLength(15);
    expect(streamed.every((l) => typeof l.attributes.Namespace === 'string' && !('Dimensions' in l.attributes))).toBe(true);
  });
});
