import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/build-test-app.ts';
import { OtlpSink } from '../helpers/otlp-sink.ts';
import { eventBridgeEvent } from '../helpers/cloudwatch-fixtures.ts';

let sink: OtlpSink;
beforeAll(async () => {
  sink = await new OtlpSink().start();
});
afterAll(() => sink.stop());
beforeEach(() => {
  sink.received.length = 0;
  sink.always({ status: 200 });
});

const KEYED = { FIRETAP_EVENTBRIDGE_API_KEYS: 'eb-old,eb-new' };
const app = (env: Record<string, string> = {}) => buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, ...KEYED, ...env });
const post = (t: Awaited<ReturnType<typeof app>>, body: string, headers: Record<string, string> = { 'x-api-key': 'eb-new' }) =>
  t.app.inject({ method: 'POST', url: '/eventbridge/events', headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, payload: body });

describe('POST /eventbridge/events (API destination)', () => {
  it('forwards an event as one log record: its JSON as the body, its time, id, source and detail-type, its account and region', async () => {
    const t = await app();
    const body = JSON.stringify(eventBridgeEvent());
    const res = await post(t, body);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: '7bf73129-1428-4cd3-a780-95db273d1602', status: 'delivered' });
    expect(sink.lines('logs')).toEqual([
      expect.objectContaining({
        body,
        timeUnixNano: `${String(Date.parse('2026-11-22T08:30:00Z'))}000000`,
        resource: { 'cloud.provider': 'aws', 'cloud.account.id': '123456789012', 'cloud.region': 'eu-west-1' },
        attributes: {
          'log.record.uid': '7bf73129-1428-4cd3-a780-95db273d1602',
          'event.name': 'aws.ec2:EC2 Instance State-change Notification',
          'aws.eventbridge.source': 'aws.ec2',
          'aws.eventbridge.detail_type': 'EC2 Instance State-change Notification',
          'aws.eventbridge.resources': ['arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc1234def567890'],
        },
      }),
    ]);
  });

  it('forwards what an input transformer made of the event as it is', async () => {
    const t = await app();
    const res = await post(t, '{"instance":"i-0abc1234def567890","state":"stopping"}');
    expect(res.statusCode).toBe(200);
    expect(sink.lines('logs').map((l) => [l.body, l.attributes])).toEqual([['{"instance":"i-0abc1234def567890","state":"stopping"}', {}]]);
  });

  it('acknowledges a retried event that was already delivered without sending it twice', async () => {
    const t = await app();
    const body = JSON.stringify(eventBridgeEvent());
    expect((await post(t, body)).statusCode).toBe(200);
    const again = await post(t, body);
    expect(again.json()).toMatchObject({ status: 'already delivered' });
    expect(sink.lines('logs')).toHaveLength(1);
  });

  it.each([
    ['no key', {}, 'missing x-api-key header'],
    ['a wrong key', { 'x-api-key': 'nope' }, 'invalid x-api-key'],
  ])('answers 401 to %s, which EventBridge retries', async (_name, headers, error) => {
    const t = await app();
    const res = await post(t, JSON.stringify(eventBridgeEvent()), headers);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error });
    expect(sink.received).toHaveLength(0);
  });

  it('is closed while no credentials are configured: 401 naming the settings, even to a forged event', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_ACCESS_KEYS: 'firehose-key' });
    for (const headers of [{}, { 'x-api-key': 'anything' }, { 'x-amz-firehose-access-key': 'firehose-key' }] as Array<Record<string, string>>) {
      const res = await post(t, JSON.stringify(eventBridgeEvent()), headers);
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toMatch(
        /set FIRETAP_EVENTBRIDGE_API_KEYS \(or FIRETAP_EVENTBRIDGE_BASIC_AUTH\).*FIRETAP_EVENTBRIDGE_ALLOW_UNAUTHENTICATED=true/,
      );
    }
    expect(sink.received).toHaveLength(0);
  });

  it('accepts events without credentials only when FIRETAP_EVENTBRIDGE_ALLOW_UNAUTHENTICATED=true', async () => {
    const t = await buildTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_EVENTBRIDGE_ALLOW_UNAUTHENTICATED: 'true' });
    expect((await post(t, JSON.stringify(eventBridgeEvent()), {})).statusCode).toBe(200);
    expect(sink.lines('logs')).toHaveLength(1);
    // With keys set, the flag opens nothing.
    const keyed = await app({ FIRETAP_EVENTBRIDGE_ALLOW_UNAUTHENTICATED: 'true' });
    expect((await post(keyed, JSON.stringify(eventBridgeEvent({ id: 'other' })), {})).statusCode).toBe(401);
  });

  it('answers a backend failure with the signal and its status, and logs the URL and what the backend said', async () => {
    const t = await app({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url.replace('http://', 'http://user:pw@') });
    sink.always({ status: 500, body: 'backend stack trace' });
    const res = await post(t, JSON.stringify(eventBridgeEvent()));
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({ error: 'OTLP logs backend answered 500' });
    const logged = t.logs().find((l) => l.msg === 'export failed');
    expect(logged).toMatchObject({ backend: `OTLP logs backend ${sink.url}/v1/logs answered 500: backend stack trace` });
    expect(JSON.stringify(t.logs())).not.toContain('user:pw');
  });

  it('takes the API key in the header the connection names, or Basic credentials', async () => {
    const t = await app({ FIRETAP_EVENTBRIDGE_API_KEY_HEADER: 'X-Firetap-Key', FIRETAP_EVENTBRIDGE_BASIC_AUTH: 'eventbridge:s3cret:with-colon' });
    const body = () => JSON.stringify(eventBridgeEvent({ id: String(Math.random()) }));
    expect((await post(t, body(), { 'x-firetap-key': 'eb-old' })).statusCode).toBe(200);
    expect((await post(t, body(), { authorization: `Basic ${Buffer.from('eventbridge:s3cret:with-colon').toString('base64')}` })).statusCode).toBe(200);
    const wrong = await post(t, body(), { authorization: `Basic ${Buffer.from('eventbridge:guess').toString('base64')}` });
    expect([wrong.statusCode, wrong.json().error]).toEqual([401, 'invalid Basic credentials']);
  });

  it.each([
    ['a body that is not JSON', 'state=stopping', 'body is not JSON'],
    ['a JSON array', '[1,2]', 'body is a JSON array, expected an EventBridge event'],
    ['an envelope without a region', JSON.stringify({ ...eventBridgeEvent(), region: undefined }), 'EventBridge event has no string "region"'],
    ['resources that are not ARNs', JSON.stringify(eventBridgeEvent({ resources: [1] })), '"resources" is not an array of strings'],
  ])('answers 400 to %s, naming the problem, and keeps it in the dead-letter file', async (_name, body, error) => {
    const dir = mkdtempSync(join(tmpdir(), 'firetap-eb-'));
    const t = await app({ FIRETAP_DEAD_LETTER_DIR: dir });
    const res = await post(t, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toContain(error);
    const kept = readFileSync(join(dir, 'firetap-dead-letter.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(kept).toEqual([expect.objectContaining({ reason: 'format', data: Buffer.from(body).toString('base64') })]);
  });

  it("answers 503 with Retry-After before EventBridge's 5-second timeout when the backend cannot take the event", async () => {
    const t = await app({ FIRETAP_EVENTBRIDGE_TIMEOUT_MS: '400' });
    sink.always({ status: 503, headers: { 'retry-after': '2' } });
    const started = Date.now();
    const res = await post(t, JSON.stringify(eventBridgeEvent()));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(Date.now() - started).toBeLessThan(4000);
    sink.always({ status: 200 });
    expect((await post(t, JSON.stringify(eventBridgeEvent()))).statusCode).toBe(200);
  });

  it('answers 405 naming the method to configure, and counts requests in /metrics', async () => {
    const t = await app();
    const res = await t.app.inject({ method: 'PUT', url: '/eventbridge/events' });
    expect(res.statusCode).toBe(405);
    expect(res.json().error).toContain("set the API destination's HTTP method to POST");
    await post(t, JSON.stringify(eventBridgeEvent()));
    expect((await t.app.inject({ url: '/metrics' })).body).toContain('firetap_requests_total{route="/eventbridge/events",status="200"} 1');
  });
});
