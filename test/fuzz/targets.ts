import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { appendCloudWatchLogs, parseCloudWatchLogsRecord } from '../../src/decode/cloudwatch-logs.ts';
import { appendMetricStreamRecord } from '../../src/decode/metric-stream.ts';
import { lengthPrefixedFrames } from '../../src/decode/length-prefixed.ts';
import { RecordError } from '../../src/decode/record-error.ts';
import { FiretapError } from '../../src/errors.ts';
import { scanEnvelope } from '../../src/firehose/envelope.ts';
import { OtlpBatch } from '../../src/otlp/batch.ts';
import { decodeToJson } from '../../src/otlp/schema.ts';
import { CONTROL_MESSAGE, firehoseBody, lengthPrefixed, logsMessage, logsRecord, metricStreamRequest, sampleDatapoints } from '../helpers/cloudwatch-fixtures.ts';

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
  logsMessage({ events: [{ timestamp: 1, message: 'START RequestId: 1\n' }, { timestamp: 2, message: '{"a":1}' }] }),
  logsMessage({ events: [{ timestamp: 3, message: 'x'.repeat(300), extractedFields: { '@aws.account': '1', '@aws.region': 'us-east-1' } }] }),
  CONTROL_MESSAGE,
];
const LOG_SEEDS = [...LOG_MESSAGES.map((m) => logsRecord(m)), ...LOG_MESSAGES.map((m) => Buffer.from(JSON.stringify(m)))];
const ENVELOPE_SEEDS = [
  Buffer.from(firehoseBody(METRIC_SEEDS.slice(0, 2), 'r1', 1)),
  Buffer.from(firehoseBody(LOG_SEEDS.slice(0, 2), 'r2', 2)),
  Buffer.from('{"requestId":"a","timestamp":1,"records":[{"data":"aGk="},{"data":""},{"data":"ab\\/c="}],"x":[1,{"y":null}]}'),
];

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
  logsRecord: fc.oneof(mutated(LOG_SEEDS), mutated(LOG_SEEDS.slice(3)).map((b) => gzipSync(b))),
  envelope: fc.oneof(mutated(ENVELOPE_SEEDS), fc.json().map((j) => Buffer.from(j))),
};

/** Metric-stream record: accepted → the batch decodes as OTLP; refused → RecordError and the batch unchanged. */
export function metricRecordTarget(record: Buffer): 'ok' | 'refused' {
  const batch = new OtlpBatch();
  appendMetricStreamRecord(METRIC_SEEDS[0]!, batch, { resourceAttributes: [] });
  const before = Buffer.from(batch.writer.finish());
  try {
    appendMetricStreamRecord(record, batch, { resourceAttributes: [] });
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
  let messages;
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
  let envelope;
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
  { name: 'metric-stream record', arbitrary: arbitraries.metricRecord, run: metricRecordTarget },
  { name: 'CloudWatch Logs record', arbitrary: arbitraries.logsRecord, run: logsRecordTarget },
  { name: 'Firehose envelope', arbitrary: arbitraries.envelope, run: envelopeTarget },
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
