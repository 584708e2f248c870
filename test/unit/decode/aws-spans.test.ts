import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RecordError } from '../../../src/decode/record-error.ts';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { decodeToJson } from '../../../src/otlp/schema.ts';
import { RECORD_CODECS } from '../../../src/pipeline/record-codecs.ts';
import { logsMessage } from '../../helpers/cloudwatch-fixtures.ts';
import { recordContext } from '../../helpers/record-context.ts';
import { sdkEncodedSpans } from '../../helpers/sdk-spans.ts';
import { T0, ecsSpan, lambdaTrace, oddSpan, rawJson, spanText, spansMessage, xraySegmentSpan } from '../../helpers/span-fixtures.ts';

type Json = Record<string, any>;

/** The ExportTraceServiceRequest the traces route writes for one record, decoded by the schema's protobufjs types. */
async function exported(record: Buffer | string): Promise<Json> {
  const batch = new OtlpBatch();
  await RECORD_CODECS.traces(Buffer.from(record).toString('base64'), batch, recordContext());
  return decodeToJson('traces', batch.take().payload);
}

/** Every span of a request with its resource attributes (as OTLP/JSON KeyValues) and scope. */
function flat(request: Json): Array<{ resource: Json[]; scope: Json; span: Json }> {
  return (request.resourceSpans ?? []).flatMap((rs: Json) =>
    (rs.scopeSpans ?? []).flatMap((ss: Json) =>
      (ss.spans ?? []).map((span: Json) => ({ resource: rs.resource?.attributes ?? [], scope: ss.scope ?? {}, span })),
    ),
  );
}

const byId = (spans: ReturnType<typeof flat>, id: string) => spans.find((s) => s.span.spanId === id)!;
const kv = (key: string, value: Json) => ({ key, value });
const str = (key: string, v: string) => kv(key, { stringValue: v });
const int = (key: string, v: number | string) => kv(key, { intValue: String(v) });

describe('spans from aws/spans (the traces route)', () => {
  it("reads a Lambda invocation's server span and its failed DynamoDB client span: ids, exact times, kinds, events, status, attributes", async () => {
    const spans = flat(await exported(gzipSync(JSON.stringify(spansMessage(lambdaTrace())))));
    expect(spans).toHaveLength(2);
    const server = byId(spans, 'a1b2c3d4e5f60718');
    expect(server.span).toEqual({
      traceId: '6739a8f0c1d2e3f4a5b6c7d8e9f00112',
      spanId: 'a1b2c3d4e5f60718',
      flags: 256,
      name: 'checkout',
      kind: 2,
      startTimeUnixNano: '1795000000123456789',
      endTimeUnixNano: '1795000000175576790',
      attributes: [
        str('faas.trigger', 'http'),
        str('faas.invocation_id', '6f1c2f3a-0b1d-4e5f-8a9b-0c1d2e3f4a5b'),
        str('cloud.resource_id', 'arn:aws:lambda:eu-west-1:123456789012:function:checkout'),
        str('http.request.method', 'POST'),
        int('http.response.status_code', 500),
        str('aws.local.service', 'checkout'),
        str('aws.local.operation', 'POST /orders'),
      ],
      status: { code: 2, message: 'order not stored' },
    });
    expect(server.scope).toEqual({ name: 'opentelemetry.instrumentation.aws_lambda', version: '0.48b0' });
    expect(server.resource).toContainEqual(kv('aws.log.group.names', { arrayValue: { values: [{ stringValue: '/aws/lambda/checkout' }] } }));
    expect(server.resource).toContainEqual(str('faas.name', 'checkout'));
    const client = byId(spans, 'b2c3d4e5f6071829');
    expect(client.span).toMatchObject({
      parentSpanId: 'a1b2c3d4e5f60718',
      kind: 3,
      startTimeUnixNano: '1795000000127456789',
      endTimeUnixNano: '1795000000173333332',
      status: { code: 2 },
      events: [
        {
          timeUnixNano: '1795000000173256789',
          name: 'exception',
          attributes: [
            str('exception.type', 'ConditionalCheckFailedException'),
            str('exception.message', 'The conditional request failed'),
            kv('exception.escaped', { boolValue: false }),
          ],
        },
      ],
    });
    expect(client.span.attributes).toContainEqual(kv('aws.dynamodb.table_names', { arrayValue: { values: [{ stringValue: 'orders' }] } }));
    expect(client.span.attributes).toContainEqual(int('retry_attempts', 2));
  });

  it('groups spans per resource and scope: one ResourceSpans for the function, one ScopeSpans per instrumentation', async () => {
    const request = await exported(gzipSync(JSON.stringify(spansMessage([...lambdaTrace(), ecsSpan(), lambdaTrace()[1]!]))));
    expect(request.resourceSpans).toHaveLength(2);
    const lambda = request.resourceSpans[0];
    expect(lambda.scopeSpans.map((s: Json) => [s.scope.name, s.spans.length])).toEqual([
      ['opentelemetry.instrumentation.aws_lambda', 1],
      ['opentelemetry.instrumentation.botocore', 2],
    ]);
  });

  it('reads an ECS span with times as strings, SPAN_KIND_ names, a trace state and a link', async () => {
    const [s] = flat(await exported(spanText(ecsSpan())));
    expect(s!.span).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      parentSpanId: '00f067aa0ba902b7',
      traceState: 'rojo=00f067aa0ba902b7',
      kind: 2,
      startTimeUnixNano: String(T0 + 1_000_000_000n),
      endTimeUnixNano: String(T0 + 1_012_500_000n),
      status: { code: 1 },
      links: [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b8', attributes: [str('link.kind', 'follows_from')] }],
    });
  });

  it("turns a converted X-Ray segment's 1-xxxxxxxx-… trace id into the W3C id, and reads OTLP KeyValue[] attributes", async () => {
    const [s] = flat(await exported(spanText(xraySegmentSpan())));
    expect(s!.span.traceId).toBe('5759e988bd862e3fe1be46a994272793');
    expect(s!.span.attributes).toEqual([
      str('aws.xray.segment.origin', 'AWS::EC2::Instance'),
      int('http.response.status_code', 200),
      kv('aws.xray.sampled', { boolValue: true }),
      kv('latency.seconds', { doubleValue: 0.1 }),
      kv('aws.xray.annotations', { kvlistValue: { values: [str('tier', 'gold')] } }),
    ]);
    expect(s!.resource).toContainEqual(str('host.id', 'i-0abc1234def567890'));
    expect(s!.span.status).toBeUndefined();
  });

  it('keeps every digit of integers beyond 2^53, arrays of every kind, and ignores fields it does not know', async () => {
    const [s] = flat(await exported(spanText(oddSpan())));
    expect(s!.span.startTimeUnixNano).toBe('18446744073709550615');
    expect(s!.span.endTimeUnixNano).toBe('18446744073709551615');
    const attrs = Object.fromEntries(s!.span.attributes.map((a: Json) => [a.key, a.value]));
    expect(attrs.ints).toEqual({ arrayValue: { values: [{ intValue: '1' }, { intValue: '2' }, { intValue: '9007199254740993' }] } });
    expect(attrs.huge).toEqual({ intValue: '9223372036854775807' });
    expect(attrs.negative).toEqual({ intValue: '-9223372036854775808' });
    expect(attrs.beyond).toEqual({ stringValue: '99999999999999999999' });
    expect(attrs.text_with_digits).toEqual({ stringValue: 'id:12345678901234567890,' });
    expect(attrs.doubles).toEqual({ arrayValue: { values: [{ doubleValue: 1.5 }, { doubleValue: -2.25 }] } });
    expect(attrs.bools).toEqual({ arrayValue: { values: [{ boolValue: true }, { boolValue: false }] } });
    expect(attrs.mixed).toEqual({ arrayValue: { values: [{ stringValue: 'x' }, { intValue: '1' }, { boolValue: true }, {}] } });
    expect(attrs.nested).toEqual({ kvlistValue: { values: [kv('inner', { kvlistValue: { values: [str('deep', 'yes')] } })] } });
    expect(Object.keys(attrs)).not.toContain('unknownField');
  });

  it('reads span JSON lines sent without a subscription message, and the end from the start and durationNano', async () => {
    const { endTimeUnixNano: _end, ...span } = ecsSpan();
    const lines = `${spanText({ ...span, startTimeUnixNano: T0, durationNano: 12_500_000 })}\n${spanText(oddSpan())}\n`;
    const spans = flat(await exported(lines));
    expect(spans).toHaveLength(2);
    expect(spans[0]!.span.endTimeUnixNano).toBe(String(T0 + 12_500_000n));
  });

  it.each([
    [{ traceId: 'xyz' }, /traceId is "xyz"; expected 32 hex digits/],
    [{ traceId: '00000000000000000000000000000000' }, /not all zeros/],
    [{ spanId: 'b7ad6b71692033' }, /spanId is "b7ad6b71692033"; expected 16 hex digits/],
    [{ startTimeUnixNano: undefined }, /startTimeUnixNano is missing; expected nanoseconds/],
    [{ endTimeUnixNano: rawJson('1.795e18') }, /endTimeUnixNano is 1795000000000000000, not exact: write the nanoseconds' digits/],
    [{ endTimeUnixNano: '17950000.5' }, /endTimeUnixNano is "17950000.5"/],
    [{ kind: 'SIDEWAYS' }, /kind is "SIDEWAYS"; expected one of UNSPECIFIED, INTERNAL, SERVER/],
    [{ status: { code: 'FINE' } }, /status.code is "FINE"; expected UNSET, OK or ERROR/],
    [{ events: [{ name: 'no time' }] }, /events\[0\].timeUnixNano is missing/],
  ])('refuses a span %j as a bad record naming the field', async (change, message) => {
    const span = { ...ecsSpan(), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete (span as Json)[k];
    const record = gzipSync(JSON.stringify(spansMessage([lambdaTrace()[0]!, span])));
    const err = await exported(record).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain('logEvents[1] of aws/spans');
  });

  it('refuses a record that is not spans, and says where a metric stream record belongs', async () => {
    await expect(exported('plain text line\n')).rejects.toThrow(/span \(line 1\) is not JSON/);
    await expect(exported(JSON.stringify({ metric_stream_name: 's', metric_name: 'm' }))).rejects.toThrow(/send it to \/firehose\/metrics/);
  });

  it('writes what otlp-transformer encodes for the same spans made with the OpenTelemetry SDK', async () => {
    const fixtures = [...lambdaTrace(), ecsSpan()];
    const ours = flat(await exported(gzipSync(JSON.stringify(spansMessage(fixtures)))));
    const sdk = flat(decodeToJson('traces', sdkEncodedSpans(fixtures)));
    expect(ours).toHaveLength(3);
    expect(sdk).toHaveLength(3);
    // The SDK sets flags from the parent's trace flags; the spans' own flags are checked above.
    const comparable = (s: Json) => {
      const { flags: _f, links, ...rest } = s;
      return { ...rest, ...(links ? { links: links.map(({ flags: _lf, ...l }: Json) => l) } : {}) };
    };
    for (const theirs of sdk) {
      const mine = byId(ours, theirs.span.spanId);
      expect(comparable(mine.span)).toEqual(comparable(theirs.span));
      expect(mine.scope).toEqual(theirs.scope);
      // The SDK adds its own telemetry.sdk.* and service.name defaults; every attribute of ours is among its.
      for (const a of mine.resource) expect(theirs.resource).toContainEqual(a);
    }
  });
});

describe('spans on the logs route', () => {
  /** One logs-route record decoded: its log records' bodies and its spans' names. */
  async function logsRoute(message: Record<string, unknown>) {
    const spans = new OtlpBatch();
    const batch = new OtlpBatch();
    await RECORD_CODECS.logs(gzipSync(JSON.stringify(message)).toString('base64'), batch, recordContext({ spans }));
    const logs = decodeToJson('logs', batch.take().payload) as Json;
    const bodies = (logs.resourceLogs ?? []).flatMap((rl: Json) => rl.scopeLogs.flatMap((sl: Json) => sl.logRecords.map((r: Json) => r.body.stringValue)));
    return { bodies, spans: flat(decodeToJson('traces', spans.take().payload)).map((s) => s.span.name) };
  }

  it('keeps as logs the JSON log lines that carry their trace context (traceId and spanId, but no span times)', async () => {
    const line = '{"level":"info","traceId":"6739a8f0c1d2e3f4a5b6c7d8e9f00112","spanId":"a1b2c3d4e5f60718","msg":"order placed"}';
    const got = await logsRoute(logsMessage({ logGroup: '/aws/lambda/checkout', events: [{ timestamp: 1, message: line }] }));
    expect(got).toEqual({ bodies: [line], spans: [] });
  });

  it('reads spans in a log group of another name by their shape, and keeps a message as logs unless all of it reads as spans', async () => {
    expect(await logsRoute(spansMessage([ecsSpan()], '/otel/cart'))).toEqual({ bodies: [], spans: ['GET /cart/{id}'] });
    const broken = spansMessage([ecsSpan(), { ...ecsSpan(), spanId: 'nope' }], '/otel/cart');
    expect((await logsRoute(broken)).bodies).toHaveLength(2);
  });

  it('refuses a record of a span log group whose span cannot be read, rather than forwarding it as logs', async () => {
    await expect(logsRoute(spansMessage([{ ...ecsSpan(), spanId: 'nope' }]))).rejects.toThrow(/spanId is "nope"/);
  });
});
