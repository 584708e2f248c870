import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MeterDeduplicator } from '../../src/decode/meter-records.ts';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { firehoseBody, firehoseHeaders, logsMessage, logsRecord } from '../helpers/cloudwatch-fixtures.ts';

let backend: OtlpSink;
let billing: OtlpSink;
beforeAll(async () => {
  backend = await new OtlpSink().start();
  billing = await new OtlpSink().start();
});
afterAll(async () => {
  await backend.stop();
  await billing.stop();
});
beforeEach(() => {
  backend.received.length = 0;
  billing.received.length = 0;
  billing.always({ status: 200 });
});

const meter = (uniqueId: string, value: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    meterApiName: 'ApiCalls',
    customerId: 'acme',
    meterTimeInMillis: 1_795_000_000_000,
    meterValue: value,
    uniqueId,
    dimensions: { region: 'eu-west-1' },
    ...extra,
  });
const record = (...lines: string[]) =>
  logsRecord(logsMessage({ logGroup: '/aws/lambda/api', events: lines.map((message, i) => ({ id: String(i), timestamp: 1_795_000_000_000 + i, message })) }));

async function app(env: Record<string, string> = {}) {
  return buildTestApp({
    OTEL_EXPORTER_OTLP_ENDPOINT: backend.url,
    FIRETAP_METER_ENDPOINT: `${billing.url}/ingest`,
    FIRETAP_METER_HEADERS: 'X-API-KEY=billing-key',
    ...env,
  });
}
function post(t: Awaited<ReturnType<typeof app>>, requestId: string, body: string) {
  return t.app.inject({ method: 'POST', url: '/firehose/logs', headers: firehoseHeaders(requestId), payload: body });
}

describe('meter records in log lines', () => {
  it('become a metric sum per meter and customer and a JSON batch to the billing endpoint, the log lines unchanged', async () => {
    const t = await app();
    const lines = [`INFO meter_record_for_stream ${meter('u-1', 2)}`, 'INFO handled request', `meter_record_for_stream ${meter('u-2', 3)}`];
    const res = await post(t, 'm1', firehoseBody([record(...lines)], 'm1'));
    expect(res.statusCode).toBe(200);
    expect(backend.lines('logs').map((l) => l.body)).toEqual(lines);
    const sums = backend.lines('metrics').filter((m) => m.metric === 'meter.ApiCalls');
    expect(sums).toEqual([
      expect.objectContaining({
        type: 'sum',
        asDouble: 5,
        attributes: { 'customer.id': 'acme', 'meter.api_name': 'ApiCalls', region: 'eu-west-1' },
        resource: { 'cloud.provider': 'aws', 'cloud.account.id': '123456789012', 'cloud.region': 'eu-west-1' },
      }),
    ]);
    expect(billing.received).toHaveLength(1);
    expect(billing.received[0]!.headers['x-api-key']).toBe('billing-key');
    expect((billing.received[0]!.json as Array<{ uniqueId: string }>).map((r) => r.uniqueId)).toEqual(['u-1', 'u-2']);
  });

  it('counts a uniqueId once: again in the same request, in a later request, and when Firehose retries', async () => {
    const t = await app();
    const body = firehoseBody([record(`meter_record_for_stream ${meter('u-1', 2)}`, `meter_record_for_stream ${meter('u-1', 2)}`)], 'm2');
    expect((await post(t, 'm2', body)).statusCode).toBe(200);
    expect((await post(t, 'm2', body)).statusCode).toBe(200);
    expect(
      (await post(t, 'm3', firehoseBody([record(`meter_record_for_stream ${meter('u-1', 2)}`, `meter_record_for_stream ${meter('u-9', 1)}`)], 'm3')))
        .statusCode,
    ).toBe(200);
    const sent = billing.received.flatMap((r) => (r.json as Array<{ uniqueId: string }>).map((m) => m.uniqueId));
    expect(sent).toEqual(['u-1', 'u-9']);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('firetap_meter_records_total{outcome="new"} 2');
    expect(metrics).toContain('firetap_meter_records_total{outcome="duplicate"} 2');
  });

  it('fails the request while the billing endpoint is down, and counts the records when the retry succeeds', async () => {
    const t = await app({ FIRETAP_REQUEST_TIMEOUT_MS: '300' });
    billing.always({ status: 503 });
    const body = firehoseBody([record(`meter_record_for_stream ${meter('u-5', 1)}`)], 'm5');
    expect((await post(t, 'm5', body)).statusCode).toBe(503);
    billing.always({ status: 200 });
    expect((await post(t, 'm5', body)).statusCode).toBe(200);
    expect(billing.received).toHaveLength(1);
    expect(backend.lines('logs')).toHaveLength(1);
  });

  it('dead-letters invalid meter records with the reason, and still forwards their lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'firetap-meters-'));
    const t = await app({ FIRETAP_DEAD_LETTER_DIR: dir });
    const lines = [`meter_record_for_stream ${meter('', 1)}`, 'meter_record_for_stream {"meterApiName":', `meter_record_for_stream ${meter('u-7', 1)}`];
    const res = await post(t, 'm7', firehoseBody([record(...lines)], 'm7'));
    expect(res.statusCode).toBe(200);
    expect(backend.lines('logs')).toHaveLength(3);
    const kept = readFileSync(join(dir, 'firetap-dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(kept.map((k) => [k.reason, k.message])).toEqual([
      ['invalid_meter_record', expect.stringContaining('no uniqueId')],
      ['invalid_meter_record', expect.stringContaining('is not JSON')],
    ]);
    expect(billing.received).toHaveLength(1);
  });

  it('looks for a configured marker, or for none with FIRETAP_METER_RECORDS=false', async () => {
    const custom = await app({ FIRETAP_METER_MARKER: 'BILLING:' });
    await post(custom, 'm8', firehoseBody([record(`BILLING: ${meter('u-8', 1)}`, `meter_record_for_stream ${meter('u-80', 1)}`)], 'm8'));
    expect(billing.received.flatMap((r) => (r.json as Array<{ uniqueId: string }>).map((m) => m.uniqueId))).toEqual(['u-8']);
    billing.received.length = 0;
    const off = await app({ FIRETAP_METER_RECORDS: 'false' });
    await post(off, 'm9', firehoseBody([record(`meter_record_for_stream ${meter('u-9', 1)}`)], 'm9'));
    expect(billing.received).toHaveLength(0);
  });
});

describe('the meter deduplication memory', () => {
  it('forgets a uniqueId after its window and keeps at most its size, oldest first', () => {
    const d = new MeterDeduplicator(1000, 2);
    d.remember(['a'], 0);
    expect(d.delivered('a', 999)).toBe(true);
    expect(d.delivered('a', 1001)).toBe(false);
    d.remember(['b', 'c', 'd'], 2000);
    expect(d.size).toBe(2);
    expect([d.delivered('b', 2000), d.delivered('c', 2000), d.delivered('d', 2000)]).toEqual([false, true, true]);
  });
});
