import { gzipSync } from 'node:zlib';
import { cloudTrailRecord, firehoseBody, logsMessage } from '../test/helpers/cloudwatch-fixtures.ts';
import { MiB } from './options.ts';
import { seededRandom, type Workload } from './workloads.ts';

/**
 * ~1 MiB request of the other logs AWS users send through Firehose, one kind of record after another: VPC flow logs
 * (the default format), CloudTrail events, Lambda logs with embedded-metric-format lines and REPORT lines (the
 * log-line metrics pass turns both into metrics), and raw lines — a record that is no subscription message, as a
 * direct PUT or an agent sends it. Each kind goes through its own path of the logs codec; the floor is the same
 * gunzip + JSON.parse (for raw lines: gunzip + split into lines) of the same records.
 */
export function mixedLogsWorkload(): Workload {
  const records: Buffer[] = [];
  let items = 0;
  let size = 0;
  const random = seededRandom(11);
  const int = (n: number) => Math.floor(random() * n);
  let time = 1_795_000_000_000;
  const event = (message: string) => ({ id: `${time}${int(1e9)}`, timestamp: (time += int(3)), message });
  const ip = () => `10.${int(4)}.${int(256)}.${int(256)}`;
  const kinds: Array<() => { record: Buffer; count: number }> = [
    () => {
      const events = Array.from({ length: 1000 }, () => {
        const start = Math.floor(time / 1000);
        return event(
          `2 123456789012 eni-0${int(0xffffff).toString(16)} ${ip()} ${ip()} ${int(65536)} ${[443, 80, 5432, 6379][int(4)]} 6 ${1 + int(40)} ${int(60000)} ${start} ${start + 60} ${random() < 0.9 ? 'ACCEPT' : 'REJECT'} OK`,
        );
      });
      return { record: subscription('/vpc/flow-logs', 'eni-0a1b2c3d4e5f60718-all', events), count: events.length };
    },
    () => {
      const names = ['DescribeInstances', 'AssumeRole', 'GetObject', 'PutObject', 'TerminateInstances', 'CreateLogStream'];
      const events = Array.from({ length: 150 }, () =>
        event(JSON.stringify(cloudTrailRecord({ eventName: names[int(names.length)], eventID: `e${int(1e12)}`, eventTime: new Date(time).toISOString() }))),
      );
      return { record: subscription('aws-cloudtrail-logs-123456789012-trail', '123456789012_CloudTrail_eu-west-1', events), count: events.length };
    },
    () => {
      const events = [];
      while (events.length < 800) {
        const id = `${int(0xffffffff).toString(16)}-4b1c-4d5e-9f00-${int(1e12).toString(16)}`;
        events.push(event(`START RequestId: ${id} Version: $LATEST\n`));
        events.push(
          event(
            `${JSON.stringify({
              _aws: {
                Timestamp: time,
                CloudWatchMetrics: [
                  {
                    Namespace: 'Shop',
                    Dimensions: [['Service', 'Operation']],
                    Metrics: [
                      { Name: 'Latency', Unit: 'Milliseconds' },
                      { Name: 'Orders', Unit: 'Count' },
                    ],
                  },
                ],
              },
              Service: 'checkout',
              Operation: ['create', 'update', 'cancel'][int(3)],
              Latency: Number((random() * 120).toFixed(1)),
              Orders: int(5),
              requestId: id,
            })}\n`,
          ),
        );
        events.push(event(`${new Date(time).toISOString()}\t${id}\tINFO\torder stored in ${int(30)} ms\n`));
        events.push(event(`END RequestId: ${id}\n`));
        const ms = (random() * 200).toFixed(2);
        events.push(
          event(
            `REPORT RequestId: ${id}\tDuration: ${ms} ms\tBilled Duration: ${Math.ceil(Number(ms))} ms\tMemory Size: 512 MB\tMax Memory Used: ${60 + int(40)} MB\t\n`,
          ),
        );
      }
      return { record: subscription('/aws/lambda/checkout', '2026/12/08/[$LATEST]0123456789abcdef0123456789abcdef', events), count: events.length };
    },
    () => {
      const lines = Array.from(
        { length: 1000 },
        () =>
          `${new Date((time += int(3))).toISOString()} ${['INFO', 'WARN', 'DEBUG'][int(3)]} [worker-${int(8)}] job ${int(1e6)} ${['started', 'finished', 'retried'][int(3)]} in ${int(900)} ms`,
      );
      return { record: gzipSync(`${lines.join('\n')}\n`), count: lines.length };
    },
  ];
  for (let r = 0; size < 0.75 * MiB; r++) {
    const { record, count } = kinds[r % kinds.length]!();
    records.push(record);
    items += count;
    size += record.length;
  }
  return { body: Buffer.from(firehoseBody(records, 'bench-mixed-logs')), items, records };
}

function subscription(logGroup: string, logStream: string, events: ReadonlyArray<{ id: string; timestamp: number; message: string }>): Buffer {
  return gzipSync(JSON.stringify(logsMessage({ logGroup, logStream, events: [...events] })));
}
