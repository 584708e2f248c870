import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { appendCloudWatchLogs, parseCloudWatchLogsRecord } from '../../src/decode/cloudwatch-logs.ts';
import { appendMetricStreamRecord, type MetricStreamContext } from '../../src/decode/metric-stream.ts';
import { buildScopeIndex } from '../../src/enrich/snapshot.ts';
import { lengthPrefixedFrames } from '../../src/decode/length-prefixed.ts';
import { RecordError } from '../../src/decode/record-error.ts';
import { FiretapError } from '../../src/errors.ts';
import { scanEnvelope } from '../../src/firehose/envelope.ts';
import { OtlpBatch } from '../../src/otlp/batch.ts';
import { decodeToJson } from '../../src/otlp/schema.ts';
import { MeterCollector, MeterDeduplicator } from '../../src/decode/meter-records.ts';
import { eventLogGroup, parseEvent } from '../../src/eventbridge/event.ts';
import { appendLogGroups } from '../../src/otlp/log-records.ts';
import { RECORD_CODECS } from '../../src/pipeline/record-codecs.ts';
import { ReplayObjectError, recordsOfObject } from '../../src/replay/objects.ts';
import { EnrichmentStats } from '../../src/enrich/enrichment-stats.ts';
import {
  CONTROL_MESSAGE,
  FLOW_LOG_LINES,
  cloudTrailRecord,
  eventBridgeEvent,
  firehoseBody,
  lengthPrefixed,
  logsMessage,
  logsRecord,
  metricStreamRequest,
  metricStreamRequestV07,
  sampleDatapoints,
  wafLog,
} from '../helpers/cloudwatch-fixtures.ts';
import { recordContext } from '../helpers/record-context.ts';
import { ecsSpan, lambdaTrace, oddSpan, spanText, spansMessage, xraySegmentSpan } from '../helpers/span-fixtures.ts';

/**
 * Structure-aware fuzz targets: real inputs (the shapes CloudWatch and Firehose send) mutated by flips,
 * cuts, insertions, duplications and varint corruption, plus plain random bytes. Every target states
 * the property that must hold for *any* input: it is accepted and yields valid OTLP, or it is refused
 * with the decoder's own error — never another exception, never a hang.
 */

const id = { account: '123456789012', region: 'eu-west-1', streamName: 's' };
const METRIC_SEEDS = [
  lengthPrefixed(metricStreamRequest(id, sampleDatapoints(3))),
  lengthPrefixed(metricStreamRequest(id, sampleDatapoints(1)), metricStreamRequest(id, sampleDatapoints(7)), Buffer.alloc(0)),
  lengthPrefixed(metricStreamRequest(id, sampleDatapoints(40))),
];
const LOG_MESSAGES = [
  logsMessage({
    events: [
      { timestamp: 1, message: 'START RequestId: 1\n' },
      { timestamp: 2, message: '{"a":1}' },
    ],
  }),
  logsMessage({ events: [{ timestamp: 3, message: 'x'.repeat(300), extractedFields: { '@aws.account': '1', '@aws.region': 'us-east-1' } }] }),
  CONTROL_MESSAGE,
];
const LOG_SEEDS = [...LOG_MESSAGES.map((m) => logsRecord(m)), ...LOG_MESSAGES.map((m) => Buffer.from(JSON.stringify(m)))];
const ENVELOPE_SEEDS = [
  Buffer.from(firehoseBody(METRIC_SEEDS.slice(0, 2), 'r1', 1)),
  Buffer.from(firehoseBody(LOG_SEEDS.slice(0, 2), 'r2', 2)),
  Buffer.from('{"requestId":"a","timestamp":1,"records":[{"data":"aGk="},{"data":""},{"data":"ab\\/c="}],"x":[1,{"y":null}]}'),
];

/** Every format the routes detect: metric streams in 1.0, 0.7.0 and JSON; raw lines, WAF, flow logs, Lambda telemetry, CloudTrail. */
const ANY_METRIC_SEEDS = [
  ...METRIC_SEEDS.slice(0, 2),
  lengthPrefixed(metricStreamRequestV07(id, sampleDatapoints(3))),
  Buffer.from(
    '{"metric_stream_name":"s","account_id":"1","region":"r","namespace":"AWS/EC2","metric_name":"CPU","dimensions":{"InstanceId":"i-1"},"timestamp":1,"value":{"count":1,"sum":2,"min":1,"max":1,"p99":1},"unit":"Percent"}\n',
  ),
];
const REPORT = 'REPORT RequestId: 1\tDuration: 5.5 ms\tBilled Duration: 6 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 99.1 ms\t\n';
const EMF = '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["S"]],"Metrics":[{"Name":"v","Unit":"Count"}]}]},"S":"a","v":[1,2]}';
const METER = 'meter_record_for_stream {"meterApiName":"a","customerId":"c","meterTimeInMillis":1,"meterValue":2,"uniqueId":"u","dimensions":{"d":"e"}}';
/** Transaction Search spans: a subscription record of aws/spans, and span JSON lines (times as numbers and strings). */
const SPAN_SEEDS = [logsRecord(spansMessage([...lambdaTrace(), ecsSpan()])), Buffer.from(`${spanText(xraySegmentSpan())}\n${spanText(oddSpan())}\n`)];
const ANY_LOG_SEEDS = [
  ...LOG_SEEDS.slice(0, 2),
  ...SPAN_SEEDS,
  logsRecord(
    logsMessage({
      logGroup: '/aws/lambda/f',
      events: [
        { timestamp: 1, message: REPORT },
        { timestamp: 2, message: EMF },
        { timestamp: 3, message: METER },
      ],
    }),
  ),
  logsRecord(logsMessage({ logGroup: 'trail', events: [{ timestamp: 1, message: JSON.stringify(cloudTrailRecord()) }] })),
  Buffer.from(`${FLOW_LOG_LINES.accepted}\n${FLOW_LOG_LINES.noData}\n`),
  Buffer.from(`${JSON.stringify(wafLog())}\n`),
  Buffer.from(`plain line\r\n${METER}\n`),
];
const OBJECT_SEEDS = [
  Buffer.concat(METRIC_SEEDS.slice(0, 2)),
  Buffer.from(`${JSON.stringify({ attemptsMade: 1, rawData: LOG_SEEDS[0]!.toString('base64') })}\n${JSON.stringify({ attemptsMade: 1, rawData: 'aGk=' })}\n`),
  Buffer.concat([Buffer.from(JSON.stringify(LOG_MESSAGES[0])), Buffer.from(JSON.stringify(LOG_MESSAGES[2]))]),
  gzipSync(Buffer.concat(METRIC_SEEDS.slice(0, 1))),
];
const EVENT_SEEDS = [Buffer.from(JSON.stringify(eventBridgeEvent())), Buffer.from('{"state":"stopping","nested":{"a":[1,2]}}')];

type Mutation = { kind: 'flip' | 'cut' | 'insert' | 'dup' | 'varint'; at: number; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'cut', 'insert', 'dup', 'varint'),
  at: fc.nat(),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
});

export function mutate(seed: Uint8Array, mutations: readonly Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.kind) {
      case 'flip':
        if (b.length) b[at] = b[at]! ^ (m.bytes[0]! || 1);
        break;
      case 'cut':
        b = b.subarray(0, at);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'dup':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + 64), b.subarray(at)]);
        break;
      case 'varint':
        // A length prefix claiming far more than is there.
        b = Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0x7f]), b.subarray(at)]);
        break;
    }
  }
  return b;
}

const mutated = (seeds: Uint8Array[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([s, ms]) => mutate(s, ms)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((u) => Buffer.from(u)) },
  );

export const arbitraries = {
  metricRecord: mutated(METRIC_SEEDS),
  logsRecord: fc.oneof(
    mutated(LOG_SEEDS),
    mutated(LOG_SEEDS.slice(3)).map((b) => gzipSync(b)),
  ),
  envelope: fc.oneof(
    mutated(ENVELOPE_SEEDS),
    fc.json().map((j) => Buffer.from(j)),
  ),
  anyMetricRecord: mutated(ANY_METRIC_SEEDS),
  spansRecord: fc.oneof(
    mutated(SPAN_SEEDS),
    mutated(SPAN_SEEDS).map((b) => gzipSync(b)),
  ),
  anyLogsRecord: fc.oneof(
    mutated(ANY_LOG_SEEDS),
    mutated(ANY_LOG_SEEDS).map((b) => gzipSync(b)),
  ),
  backupObject: fc.oneof(
    mutated(OBJECT_SEEDS),
    mutated(OBJECT_SEEDS.slice(0, 3)).map((b) => gzipSync(b)),
  ),
  event: fc.oneof(
    mutated(EVENT_SEEDS),
    fc.json().map((j) => Buffer.from(j)),
  ),
};

const decodesAll = (signal: 'metrics' | 'logs' | 'traces', batch: OtlpBatch) => decodeToJson(signal, batch.take().payload);

/**
 * A record of either route, as the route's codec reads it with format detection on (every extractor and the
 * metrics read from logs included): accepted → the logs and the derived metrics decode as OTLP;
 * refused → RecordError.
 */
export async function anyRecordTarget(signal: 'metrics' | 'logs' | 'traces', record: Buffer): Promise<'ok' | 'refused'> {
  const derived = new OtlpBatch();
  const spans = new OtlpBatch();
  const ctx = recordContext(
    { maxBatchBytes: 4096, derived, spans, meterRecords: new MeterCollector('meter_record_for_stream', new MeterDeduplicator(60_000)) },
    { metrics: ['lambda-report', 'emf'], cloudTrailLogGroups: ['trail'], namePatterns: ['/aws/{cluster} {namespace}.{pod}.{container}'] },
  );
  const batch = new OtlpBatch();
  const outputs: Uint8Array[] = [];
  try {
    for (let next = await RECORD_CODECS[signal](record.toString('base64'), batch, ctx); ; next = next()) {
      outputs.push(batch.take().payload);
      if (!next) break;
    }
  } catch (err) {
    if (!(err instanceof RecordError)) throw err;
    return 'refused';
  }
  for (const payload of outputs) {
    try {
      decodeToJson(signal, payload);
    } catch (err) {
      // As for the metric-stream target: bytes copied through untouched may stay garbage, never become it.
      if (signal !== 'metrics' || framesDecode(record)) throw new Error(`decodable input became undecodable OTLP: ${(err as Error).message}`);
    }
  }
  decodesAll('metrics', derived);
  decodesAll('traces', spans);
  const meterFrame = ctx.meterRecords!.metricsFrame([['cloud.provider', 'aws']]);
  if (meterFrame) decodeToJson('metrics', meterFrame);
  return 'ok';
}

/** A Firehose backup object: its records are found, or it is refused with ReplayObjectError. */
export async function backupObjectTarget(object: Buffer): Promise<'ok' | 'refused'> {
  try {
    const records = await recordsOfObject(object);
    for (const r of records) if (!Buffer.isBuffer(r.data) || !['metrics', 'logs', 'traces'].includes(r.signal)) throw new Error('not a record');
    return 'ok';
  } catch (err) {
    if (!(err instanceof ReplayObjectError)) throw err;
    return 'refused';
  }
}

/** An API destination's body: it becomes a log record that decodes as OTLP, or a 400 FiretapError. */
export function eventTarget(body: Buffer): 'ok' | 'refused' {
  const text = body.toString('utf8');
  let parsed: ReturnType<typeof parseEvent>;
  try {
    parsed = parseEvent(text);
  } catch (err) {
    if (!(err instanceof FiretapError) || err.code !== 'FIRETAP_BAD_REQUEST') throw err;
    return 'refused';
  }
  const batch = new OtlpBatch();
  appendLogGroups([eventLogGroup(text, parsed, { resourceAttributes: [], enrichment: undefined, stats: new EnrichmentStats() })], batch, {
    observedAtMs: 1,
    maxBatchBytes: 1 << 20,
  });
  decodesAll('logs', batch);
  return 'ok';
}

/** The seeds' account and region, with resources their data points name: the enriched paths. */
const SEED_SCOPE = buildScopeIndex(
  id.account,
  id.region,
  [
    {
      arn: `arn:aws:ec2:${id.region}:${id.account}:instance/i-0abc1234def567890`,
      tags: { team: 'a' },
      attributes: { 'host.type': 'm6i.large' },
      sources: ['ec2'],
    },
    { arn: `arn:aws:rds:${id.region}:${id.account}:db:orders`, tags: { team: 'b' }, attributes: {}, sources: ['tagging'] },
  ],
  { include: [], exclude: [] },
);
const GROUPED: MetricStreamContext = { resourceAttributes: [], enrichment: { scope: () => SEED_SCOPE }, attributesOn: 'resource' };
const TAGGED: MetricStreamContext = { resourceAttributes: [], enrichment: { scope: () => SEED_SCOPE }, attributesOn: 'datapoint' };

/** Metric-stream record: accepted → the batch decodes as OTLP; refused → RecordError and the batch unchanged. */
export function metricRecordTarget(record: Buffer, ctx: MetricStreamContext = { resourceAttributes: [] }): 'ok' | 'refused' {
  const batch = new OtlpBatch();
  appendMetricStreamRecord(METRIC_SEEDS[0]!, batch, ctx);
  const before = Buffer.from(batch.writer.finish());
  try {
    appendMetricStreamRecord(record, batch, ctx);
  } catch (err) {
    if (!(err instanceof RecordError)) throw err;
    if (!Buffer.from(batch.writer.finish()).equals(before)) throw new Error('a refused record left bytes in the batch');
    return 'refused';
  }
  const payload = batch.take().payload;
  try {
    decodeToJson('metrics', payload);
  } catch (err) {
    // Fields firetap copies through untouched (exemplars, quantiles, unknown fields) are forwarded as
    // sent: garbage in is allowed to stay garbage, but firetap must never corrupt a decodable input.
    if (framesDecode(record)) throw new Error(`decodable input became undecodable OTLP: ${(err as Error).message}`);
  }
  return 'ok';
}

function framesDecode(record: Buffer): boolean {
  try {
    for (const f of lengthPrefixedFrames(record)) decodeToJson('metrics', record.subarray(f.start, f.end));
    return true;
  } catch {
    return false;
  }
}

/** CloudWatch Logs record: accepted → every batch decodes as OTLP; refused → RecordError. */
export async function logsRecordTarget(record: Buffer): Promise<'ok' | 'refused'> {
  let messages: Awaited<ReturnType<typeof parseCloudWatchLogsRecord>>;
  try {
    messages = await parseCloudWatchLogsRecord(record, 1024 * 1024);
  } catch (err) {
    if (!(err instanceof RecordError)) throw err;
    return 'refused';
  }
  const batch = new OtlpBatch();
  const ctx = { resourceAttributes: [], region: 'eu-west-1', observedAtMs: 1, maxBatchBytes: 4096, maxRecordBytes: 1 << 20 };
  for (let next = appendCloudWatchLogs(messages, batch, ctx); ; next = next()) {
    decodeToJson('logs', batch.take().payload);
    if (!next) break;
  }
  return 'ok';
}

/** Firehose body: located → every record's data can be read; refused → a 400 FiretapError. */
export function envelopeTarget(body: Buffer): 'ok' | 'refused' {
  let envelope: ReturnType<typeof scanEnvelope>;
  try {
    envelope = scanEnvelope(body, 10_000);
  } catch (err) {
    if (!(err instanceof FiretapError) || err.code !== 'FIRETAP_BAD_REQUEST') throw err;
    return 'refused';
  }
  for (let i = 0; i < envelope.count; i++) if (typeof envelope.data(i) !== 'string') throw new Error('data is not a string');
  return 'ok';
}

export const TARGETS = [
  { name: 'metric-stream record', arbitrary: arbitraries.metricRecord, run: (b: Buffer) => metricRecordTarget(b) },
  { name: 'metric-stream record, tags on each data point', arbitrary: arbitraries.metricRecord, run: (b: Buffer) => metricRecordTarget(b, TAGGED) },
  { name: 'metric-stream record, grouped by AWS resource', arbitrary: arbitraries.metricRecord, run: (b: Buffer) => metricRecordTarget(b, GROUPED) },
  { name: 'CloudWatch Logs record', arbitrary: arbitraries.logsRecord, run: logsRecordTarget },
  { name: 'Firehose envelope', arbitrary: arbitraries.envelope, run: envelopeTarget },
  { name: 'metrics route record (any format)', arbitrary: arbitraries.anyMetricRecord, run: (b: Buffer) => anyRecordTarget('metrics', b) },
  { name: 'logs route record (any format)', arbitrary: arbitraries.anyLogsRecord, run: (b: Buffer) => anyRecordTarget('logs', b) },
  { name: 'traces route record (spans)', arbitrary: arbitraries.spansRecord, run: (b: Buffer) => anyRecordTarget('traces', b) },
  { name: 'S3 backup object', arbitrary: arbitraries.backupObject, run: backupObjectTarget },
  { name: 'EventBridge event', arbitrary: arbitraries.event, run: eventTarget },
] as const;

/** Per-input time bound: a record of at most ~1 MB is decoded far faster; more means a hang. */
export const MAX_MS_PER_INPUT = 250;

export interface FuzzFigures {
  name: string;
  inputs: number;
  accepted: number;
  refused: number;
  slowestMs: number;
}

/** Runs one target over `numRuns` inputs; throws (with fast-check's shrunk counterexample) on a violation. */
export async function fuzz(target: (typeof TARGETS)[number], numRuns: number, seed: number): Promise<FuzzFigures> {
  const figures: FuzzFigures = { name: target.name, inputs: 0, accepted: 0, refused: 0, slowestMs: 0 };
  await fc.assert(
    fc.asyncProperty(target.arbitrary as fc.Arbitrary<Buffer>, async (input) => {
      const started = performance.now();
      const outcome = await target.run(input);
      const ms = performance.now() - started;
      figures.inputs++;
      figures[outcome === 'ok' ? 'accepted' : 'refused']++;
      figures.slowestMs = Math.max(figures.slowestMs, ms);
      if (ms > MAX_MS_PER_INPUT) throw new Error(`input took ${ms.toFixed(0)} ms (bound ${MAX_MS_PER_INPUT} ms)`);
    }),
    { numRuns, seed },
  );
  return figures;
}
