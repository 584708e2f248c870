import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugLines } from '../../src/export/debug.ts';
import { FakeAws } from '../helpers/fake-aws.ts';
import { sendLikeFirehose } from '../helpers/firehose-client.ts';
import { firehoseBody, firehoseHeaders, logsMessage, logsRecord, metricStreamRequest, lengthPrefixed } from '../helpers/cloudwatch-fixtures.ts';
import { OtlpSink, type SinkBehaviour } from '../helpers/otlp-sink.ts';
import { RedisServer } from '../helpers/redis-server.ts';
import { startService, type Service } from '../helpers/service.ts';
import { sdkEnv } from '../helpers/aws-env.ts';

/**
 * Three real service processes sharing one real redis-server and one loopback AWS, as the chart's replicas
 * behind the ALB: requests spread round-robin, and every retry of a request goes to another replica than
 * the attempt before (what the ALB does to Firehose's retries).
 */
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0f1ee7f1ee7f1ee70';
const LEASE_TTL_MS = 1500;

const redis = new RedisServer();
const aws = new FakeAws();
let backend: OtlpSink;
let billing: OtlpSink;
const fleet: Service[] = [];

function serviceEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: backend.url,
    FIRETAP_METER_ENDPOINT: `${billing.url}/ingest`,
    FIRETAP_ACCESS_KEYS: 'fleet-key',
    FIRETAP_STATE_URL: redis.url,
    FIRETAP_STATE_LEASE_TTL_MS: String(LEASE_TTL_MS),
    FIRETAP_STATE_TIMEOUT_MS: '300',
    FIRETAP_ENRICHMENT_REGIONS: REGION,
    FIRETAP_EXPORT_MAX_BATCH_BYTES: '1',
    FIRETAP_EXPORT_CONCURRENCY: '1',
    FIRETAP_DECODE_THREADS: '0',
    ...sdkEnv({ AWS_ENDPOINT_URL: aws.url }, 'AKIDFLEET', REGION),
    ...extra,
  };
}

beforeAll(async () => {
  await redis.start();
  await aws.start();
  aws.addAccount(ACCOUNT, 'AKIDFLEET').setResources(ACCOUNT, REGION, [
    { arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`, tags: { team: 'fleet' } },
    { arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders`, tags: { team: 'data' } },
  ]);
  backend = await new OtlpSink().start();
  billing = await new OtlpSink().start();
  fleet.push(...(await Promise.all([0, 1, 2].map(() => startService(serviceEnv())))));
}, 60_000);

afterAll(async () => {
  for (const s of fleet) s.child.kill('SIGTERM');
  await Promise.all(fleet.map((s) => s.exited));
  await backend?.stop();
  await billing?.stop();
  await aws.stop();
  await redis.close();
}, 30_000);

/** Sends one request like Firehose: attempt k of request i goes to replica (i + k) mod 3, never the same twice in a row. */
async function send(i: number, signal: 'logs' | 'metrics', requestId: string, body: string) {
  let k = 0;
  return sendLikeFirehose(
    async (id, text) => {
      const replica = fleet[(i + k++) % fleet.length]!;
      const res = await fetch(`${replica.base}/firehose/${signal}`, {
        method: 'POST',
        headers: firehoseHeaders(id, { 'x-amz-firehose-access-key': 'fleet-key' }),
        body: text,
      });
      await res.arrayBuffer();
      return { statusCode: res.status };
    },
    requestId,
    body,
    { baseDelayMs: 20, maxDelayMs: 200, retryDurationMs: 30_000 },
  );
}

const RECORDS = 6;
const logsBody = (tag: string) =>
  firehoseBody(
    Array.from({ length: RECORDS }, (_, k) =>
      logsRecord(logsMessage({ logGroup: '/app/fleet', events: [{ timestamp: 1_795_000_000_000 + k, message: `${tag}-rec${k}` }] })),
    ),
    tag,
  );
const metricsBody = (tag: string) =>
  firehoseBody(
    Array.from({ length: RECORDS }, (_, k) =>
      lengthPrefixed(
        metricStreamRequest(
          { account: ACCOUNT, region: REGION, streamName: 'fleet' },
          [0, 1].map((p) => ({
            namespace: 'AWS/EC2',
            metricName: 'CPUUtilization',
            dimensions: { InstanceId: `${tag}-rec${k}-p${p}` },
            timeMs: 1_795_000_000_000,
            count: 1,
            sum: 1,
            min: 1,
            max: 1,
          })),
        ),
      ),
    ),
    tag,
  );

/** What identifies an export: its first log line's body, or its first data point's InstanceId. */
const exportId = (body: Buffer, path: string): string => {
  const signal = path.includes('logs') ? 'logs' : 'metrics';
  const first = debugLines({ signal, payload: body }).next().value as Record<string, any> | undefined;
  return String(signal === 'logs' ? first?.body : first?.attributes?.InstanceId);
};

/** The backend takes some batches of each request, then fails one (every third record's batch, its first time). */
function failAfterSomeBatches(): void {
  const failedOnce = new Set<string>();
  backend.decideBy((body, _attempt, path): SinkBehaviour | undefined => {
    const id = exportId(body, path);
    const k = /-rec(\d+)/.exec(id)?.[1];
    if (k === undefined || Number(k) % 3 !== 2 || failedOnce.has(id)) return undefined;
    failedOnce.add(id);
    return { status: 503, headers: { 'retry-after': '3600' } };
  });
}

/** How many times each log line and data point of these requests reached the backend. */
function deliveries(tags: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  const mine = (id: string) => tags.some((t) => id.startsWith(`${t}-`));
  for (const l of backend.lines('logs')) if (mine(String(l.body))) counts.set(String(l.body), (counts.get(String(l.body)) ?? 0) + 1);
  for (const m of backend.lines('metrics')) {
    const id = String(m.attributes?.InstanceId);
    if (mine(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Sends four logs and four metrics requests through the fleet; resolves with their tags once all were answered. */
async function sendMixed(prefix: string): Promise<string[]> {
  const tags = Array.from({ length: 4 }, (_, i) => `${prefix}${i}`);
  const results = await Promise.all(
    tags.flatMap((t, i) => [send(i, 'logs', `${t}-logs`, logsBody(`${t}L`)), send(i + 1, 'metrics', `${t}-metrics`, metricsBody(`${t}M`))]),
  );
  for (const r of results) expect(r.acknowledged).toBe(true);
  return tags.flatMap((t) => [`${t}L`, `${t}M`]);
}

async function readyz(s: Service): Promise<{ snapshot?: { version: number | null; leader: boolean } }> {
  return (await fetch(`${s.base}/readyz`)).json() as Promise<{ snapshot?: { version: number | null; leader: boolean } }>;
}

async function stateErrors(s: Service): Promise<number> {
  const text = await (await fetch(`${s.base}/metrics`)).text();
  return [...text.matchAll(/^firetap_state_errors_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('a fleet of three replicas sharing one state store', () => {
  it('delivers every log record and data point exactly once when the backend fails after some batches and retries land on other replicas', async () => {
    failAfterSomeBatches();
    const tags = await sendMixed('once');
    const counts = deliveries(tags);
    expect(counts.size).toBe(tags.length * RECORDS * 1.5);
    expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
    backend.decideBy(undefined);
  }, 60_000);

  it('sends each meter record to the meter endpoint exactly once, across requests, repeats and retries on other replicas', async () => {
    const meter = (uniqueId: string) =>
      `meter_record_for_stream ${JSON.stringify({ meterApiName: 'ApiCalls', customerId: 'acme', meterTimeInMillis: 1_795_000_000_000, meterValue: 1, uniqueId })}`;
    const request = (tag: string, ids: string[]) =>
      firehoseBody(
        [logsRecord(logsMessage({ logGroup: '/app/billing', events: ids.map((id, e) => ({ timestamp: 1_795_000_000_000 + e, message: meter(id) })) }))],
        tag,
      );
    // The meter endpoint refuses its first POST: that request's records must count on its retry elsewhere.
    let posts = 0;
    billing.decideBy(() => (++posts === 1 ? { status: 503, headers: { 'retry-after': '3600' } } : undefined));
    const results = await Promise.all([
      send(0, 'logs', 'meters-1', request('meters-1', ['u-1', 'u-2', 'u-1'])),
      send(1, 'logs', 'meters-2', request('meters-2', ['u-2', 'u-3'])),
      send(2, 'logs', 'meters-3', request('meters-3', ['u-3', 'u-4'])),
      send(0, 'logs', 'meters-4', request('meters-4', ['u-4', 'u-1', 'u-5'])),
    ]);
    for (const r of results) expect(r.acknowledged).toBe(true);
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    const sent = billing.received.flatMap((r) => (r.json as Array<{ uniqueId: string }>).map((m) => m.uniqueId)).sort();
    expect(sent).toEqual(['u-1', 'u-2', 'u-3', 'u-4', 'u-5']);
    billing.decideBy(undefined);
  }, 60_000);

  it('scrapes AWS once per refresh for the whole fleet, and a new leader scrapes within one lease TTL of the leader being killed', async () => {
    const states = async () => Promise.all(fleet.map(readyz));
    await expect.poll(async () => (await states()).every((s) => (s.snapshot?.version ?? 0) >= 1), { timeout: 15_000 }).toBe(true);
    const fleetCalls = aws.calls.length;
    expect((await states()).filter((s) => s.snapshot?.leader)).toHaveLength(1);
    expect(new Set((await states()).map((s) => s.snapshot?.version)).size).toBe(1);
    // A follower's lookup answers from the snapshot it loaded, and says which one.
    const follower = fleet[(await states()).findIndex((s) => !s.snapshot?.leader)]!;
    const lookup = (await (
      await fetch(`${follower.base}/enrichment/resources?arn=arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${INSTANCE}`, {
        headers: { 'x-amz-firehose-access-key': 'fleet-key' },
      })
    ).json()) as { snapshot: { version: number; leader: boolean; ageSeconds: number }; resources: Array<{ tags: Record<string, string> }> };
    expect(lookup.snapshot).toMatchObject({ version: (await readyz(follower)).snapshot?.version, leader: false });
    expect(lookup.snapshot.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(lookup.resources.map((r) => r.tags.team)).toEqual(['fleet']);

    // One replica alone (its own fleet, under another key prefix) makes as many calls for one refresh.
    const before = aws.calls.length;
    const solo = await startService(serviceEnv({ FIRETAP_STATE_KEY_PREFIX: 'solo:' }));
    try {
      await expect.poll(async () => (await readyz(solo)).snapshot?.version ?? 0, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
      expect(aws.calls.length - before).toBe(fleetCalls);
    } finally {
      solo.child.kill('SIGTERM');
      await solo.exited;
    }

    const leaderAt = (await states()).findIndex((s) => s.snapshot?.leader);
    const [leader] = fleet.splice(leaderAt, 1);
    const callsBefore = aws.calls.length;
    const killedAt = Date.now();
    leader!.child.kill('SIGKILL');
    await leader!.exited;
    await expect.poll(async () => (await states()).some((s) => s.snapshot?.leader), { timeout: 10_000, interval: 50 }).toBe(true);
    // Within one TTL, and a little for the processes' scheduling and this poll.
    expect(Date.now() - killedAt).toBeLessThanOrEqual(LEASE_TTL_MS + 250);
    await expect.poll(() => aws.calls.length - callsBefore, { timeout: 10_000 }).toBeGreaterThanOrEqual(fleetCalls);

    // Tags keep flowing from the surviving replicas.
    const body = firehoseBody(
      [
        lengthPrefixed(
          metricStreamRequest({ account: ACCOUNT, region: REGION, streamName: 'fleet' }, [
            {
              namespace: 'AWS/EC2',
              metricName: 'CPUUtilization',
              dimensions: { InstanceId: INSTANCE },
              timeMs: 1_795_000_000_000,
              count: 1,
              sum: 1,
              min: 1,
              max: 1,
            },
          ]),
        ),
      ],
      'tags-after-takeover',
    );
    for (let i = 0; i < fleet.length; i++) expect((await send(i, 'metrics', `tags-after-takeover-${i}`, body)).acknowledged).toBe(true);
    const tagged = backend.lines('metrics').filter((m) => m.attributes?.InstanceId === INSTANCE);
    expect(tagged).toHaveLength(fleet.length);
    for (const m of tagged) expect(m.attributes['aws.tag.team']).toBe('fleet');

    fleet.push(await startService(serviceEnv()));
  }, 60_000);

  it('loses nothing while the store is down (duplicates allowed and counted), and dedupes across replicas again once it is back', async () => {
    await redis.stop();
    failAfterSomeBatches();
    const during = await sendMixed('outage');
    const counts = deliveries(during);
    expect(counts.size).toBe(during.length * RECORDS * 1.5);
    expect([...counts.values()].every((n) => n >= 1)).toBe(true);
    expect((await Promise.all(fleet.map(stateErrors))).every((n) => n > 0)).toBe(true);
    for (const s of fleet) expect(s.output().match(/state store unreachable/g)).toHaveLength(1);

    await redis.start();
    await expect.poll(() => fleet.every((s) => /state store reachable again/.test(s.output())), { timeout: 10_000 }).toBe(true);
    failAfterSomeBatches();
    const after = await sendMixed('restored');
    const again = deliveries(after);
    expect(again.size).toBe(after.length * RECORDS * 1.5);
    expect([...again.values()].filter((n) => n !== 1)).toEqual([]);
    backend.decideBy(undefined);
  }, 90_000);
});
