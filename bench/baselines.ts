import { gunzipSync } from 'node:zlib';
import { lengthPrefixedFrames } from '../src/decode/length-prefixed.ts';
import { otlpTypes } from '../src/otlp/schema.ts';

/** Runs `work` (which returns items done) repeatedly for about `ms`, single-threaded: items per second. */
function rate(ms: number, work: () => number): number {
  for (let i = 0; i < 3; i++) work(); // warm up
  let items = 0;
  const started = performance.now();
  while (performance.now() - started < ms) items += work();
  return Math.round(items / ((performance.now() - started) / 1000));
}

/** The naive relay firetap is measured against: protobufjs object decode of every frame, then re-encode. */
export function metricsBaseline(records: Buffer[], ms: number): number {
  const T = otlpTypes.ExportMetricsServiceRequest;
  return rate(ms, () => {
    let points = 0;
    for (const record of records) {
      for (const f of lengthPrefixedFrames(record)) {
        const request = T.decode(record.subarray(f.start, f.end)) as any;
        for (const rm of request.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) points += m.summary.dataPoints.length;
        T.encode(request).finish();
      }
    }
    return points;
  });
}

/** The logs floor (gunzip + JSON.parse) and the naive relay (that, plus building and encoding OTLP objects). */
export function logsBaselines(records: Buffer[], ms: number): { floor: number; naive: number } {
  const T = otlpTypes.ExportLogsServiceRequest;
  const floor = rate(ms, () => records.reduce((n, r) => n + (JSON.parse(gunzipSync(r).toString('utf8')) as { logEvents: unknown[] }).logEvents.length, 0));
  const naive = rate(ms, () => {
    let events = 0;
    for (const r of records) {
      const m = JSON.parse(gunzipSync(r).toString('utf8')) as {
        owner: string;
        logGroup: string;
        logStream: string;
        logEvents: Array<{ id: string; timestamp: number; message: string }>;
      };
      const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
      const request = T.fromObject({
        resourceLogs: [
          {
            resource: {
              attributes: [
                str('cloud.provider', 'aws'),
                str('cloud.account.id', m.owner),
                str('aws.log.group.names', m.logGroup),
                str('aws.log.stream.names', m.logStream),
              ],
            },
            scopeLogs: [
              {
                scope: { name: 'baseline' },
                logRecords: m.logEvents.map((e) => ({
                  timeUnixNano: String(BigInt(e.timestamp) * 1_000_000n),
                  body: { stringValue: e.message },
                  attributes: [str('log.record.uid', e.id ?? '')],
                })),
              },
            ],
          },
        ],
      });
      T.encode(request).finish();
      events += m.logEvents.length;
    }
    return events;
  });
  return { floor, naive };
}

/** The mixed logs floor: gunzip + JSON.parse of each subscription record, gunzip + a split into lines of each raw one. */
export function mixedLogsFloor(records: Buffer[], ms: number): number {
  return rate(ms, () => {
    let events = 0;
    for (const r of records) {
      const text = gunzipSync(r).toString('utf8');
      if (text.startsWith('{')) events += (JSON.parse(text) as { logEvents: unknown[] }).logEvents.length;
      else events += text.split('\n').length - 1;
    }
    return events;
  });
}

/**
 * The spans floor: gunzip + JSON.parse of each aws/spans record and of every span in it (its events are span JSON
 * text) — reading the records and nothing more, no id, time or attribute checked, nothing written.
 */
export function spansFloor(records: Buffer[], ms: number): number {
  return rate(ms, () => {
    let spans = 0;
    for (const r of records) {
      const m = JSON.parse(gunzipSync(r).toString('utf8')) as { logEvents: Array<{ message: string }> };
      for (const e of m.logEvents) if (JSON.parse(e.message)) spans++;
    }
    return spans;
  });
}
