import { describe, expect, it } from 'vitest';
import { OtlpBatch } from '../../../src/otlp/batch.ts';
import { LOG_ATTRIBUTES, appendLogGroups, type LogEvent } from '../../../src/otlp/log-records.ts';
import { otlpTypes } from '../../../src/otlp/schema.ts';
import { encodeKeyValue } from '../../../src/otlp/wire.ts';

const ctx = { observedAtMs: 1_795_000_999_000, maxBatchBytes: 64 * 1024 * 1024 };

function written(events: LogEvent[]) {
  const batch = new OtlpBatch();
  appendLogGroups([{ resource: new Uint8Array(0), events }], batch, ctx);
  const request = otlpTypes.ExportLogsServiceRequest.decode(batch.take().payload);
  return otlpTypes.ExportLogsServiceRequest.toObject(request, { longs: String, bytes: Array }).resourceLogs[0].scopeLogs[0].logRecords;
}

describe('log records as written into a batch', () => {
  it('decode as protobuf to every field they were given, whatever the lengths of message and id', () => {
    const messages = ['', 'a', 'é日本😀 mixed', 'x'.repeat(127), 'y'.repeat(128), 'z'.repeat(20_000), 'w'.repeat(2_100_000)];
    const events: LogEvent[] = messages.map((message, i) => ({ id: i % 2 ? `id-${i}-ü` : 'i'.repeat(200), timestamp: 1_795_000_000_000 + i, message }));
    const records = written(events);
    expect(records.map((r: { body: { stringValue: string } }) => r.body.stringValue)).toEqual(messages);
    expect(records.map((r: { attributes: Array<{ value: { stringValue: string } }> }) => r.attributes[0]!.value.stringValue)).toEqual(events.map((e) => e.id));
    expect(records[2].timeUnixNano).toBe('1795000000002000000');
    expect(records[2].observedTimeUnixNano).toBe('1795000999000000000');
  });

  it("write a body of bytes, no time and no id when the event has none, and the extractors' attributes after the id", () => {
    const bytes = new Uint8Array([0xff, 0x00, 0xfe]);
    const [a, b] = written([
      { message: bytes },
      { id: 'e1', timestamp: Number.NaN, message: 'text', [LOG_ATTRIBUTES]: [encodeKeyValue('k', 'v'), encodeKeyValue('n', true)] },
    ]);
    expect(a).toEqual({ body: { bytesValue: [0xff, 0x00, 0xfe] }, observedTimeUnixNano: '1795000999000000000' });
    expect(b.timeUnixNano).toBeUndefined();
    expect(b.attributes.map((kv: { key: string }) => kv.key)).toEqual(['log.record.uid', 'k', 'n']);
    expect(b.attributes[2].value).toEqual({ boolValue: true });
  });
});
