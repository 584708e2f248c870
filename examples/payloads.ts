import { gzipSync } from 'node:zlib';
import {
  CONTROL_MESSAGE,
  FLOW_LOG_LINES,
  cloudTrailRecord,
  eventBridgeEvent,
  metricStreamRequestV07,
  lengthPrefixed,
  logsMessage,
  metricStreamRequest,
  sampleDatapoints,
} from '../test/helpers/cloudwatch-fixtures.ts';
import { ecsSpan, lambdaTrace, spansMessage, xraySegmentSpan } from '../test/helpers/span-fixtures.ts';

const TIME_MS = 1_795_000_000_000; // 2026-11-18T09:46:40Z

/** The samples the README also sends gzipped (Content-Encoding: gzip). */
export const GZIPPED = new Set(['metrics-request.json', 'logs-request.json']);

/** The sample requests, deterministic so that the committed files can be checked. */
export function examplePayloads(): Record<string, string> {
  const id = { account: '123456789012', region: 'eu-west-1', streamName: 'firetap-example' };
  // One record holding two frames, as CloudWatch writes them.
  const points = sampleDatapoints(6, TIME_MS);
  const metricsRecord = lengthPrefixed(metricStreamRequest(id, points.slice(0, 4)), metricStreamRequest(id, points.slice(4)));
  const lambda = logsMessage({
    logGroup: '/aws/lambda/checkout',
    events: [
      {
        id: '37958412345678901234567890123456789012345678901234567890',
        timestamp: TIME_MS + 1,
        message: 'START RequestId: 6f1c2f3a-0b1d-4e5f-8a9b-0c1d2e3f4a5b Version: $LATEST\n',
      },
      {
        id: '37958412345678901234567890123456789012345678901234567891',
        timestamp: TIME_MS + 45,
        message: '{"level":"info","msg":"order placed","orderId":"o-1842","amount":42.5}\n',
      },
      {
        id: '37958412345678901234567890123456789012345678901234567892',
        timestamp: TIME_MS + 52,
        message:
          'REPORT RequestId: 6f1c2f3a-0b1d-4e5f-8a9b-0c1d2e3f4a5b\tDuration: 50.12 ms\tBilled Duration: 51 ms\tMemory Size: 512 MB\tMax Memory Used: 87 MB\t\n',
      },
    ],
  });
  // A Lambda function's log group: a REPORT line, an Embedded Metric Format line and a meter record.
  const lambdaTelemetry = logsMessage({
    logGroup: '/aws/lambda/checkout',
    events: [
      {
        id: '37958412345678901234567890123456789012345678901234567893',
        timestamp: TIME_MS + 100,
        message:
          '{"_aws":{"Timestamp":1795000000100,"CloudWatchMetrics":[{"Namespace":"shop","Dimensions":[["Service"]],"Metrics":[{"Name":"OrderValue","Unit":"None"}]}]},"Service":"checkout","OrderValue":42.5}\n',
      },
      {
        id: '37958412345678901234567890123456789012345678901234567894',
        timestamp: TIME_MS + 101,
        message:
          'INFO meter_record_for_stream {"meterApiName":"Checkouts","customerId":"acme","meterTimeInMillis":1795000000101,"meterValue":1,"uniqueId":"o-1842","dimensions":{"plan":"pro"}}\n',
      },
      {
        id: '37958412345678901234567890123456789012345678901234567895',
        timestamp: TIME_MS + 102,
        message:
          'REPORT RequestId: 6f1c2f3a-0b1d-4e5f-8a9b-0c1d2e3f4a5b\tDuration: 50.12 ms\tBilled Duration: 51 ms\tMemory Size: 512 MB\tMax Memory Used: 87 MB\tInit Duration: 180.25 ms\t\n',
      },
    ],
  });
  // A trail delivering to CloudWatch Logs: one CloudTrail record per event.
  const trail = logsMessage({
    logGroup: 'aws-cloudtrail-logs-123456789012-org',
    logStream: '123456789012_CloudTrail_eu-west-1',
    events: [{ id: '37958412345678901234567890123456789012345678901234567896', timestamp: TIME_MS + 200, message: JSON.stringify(cloudTrailRecord()) }],
  });
  const body = (requestId: string, records: Uint8Array[]) =>
    `${JSON.stringify({ requestId, timestamp: TIME_MS + 60_000, records: records.map((r) => ({ data: Buffer.from(r).toString('base64') })) }, null, 2)}\n`;
  return {
    'metrics-request.json': body('6a1f2ee4-5b0a-4e6f-9d36-4f0d3c1b2a10', [metricsRecord]),
    'metrics-v07-request.json': body('3b9d7f21-6c4e-4a8b-9f0d-1e2c3b4a5d61', [lengthPrefixed(metricStreamRequestV07(id, points.slice(0, 3)))]),
    'lambda-logs-request.json': body('5e8c1a2b-3d4f-4a6b-8c9d-0e1f2a3b4c71', [gzipSync(JSON.stringify(lambdaTelemetry))]),
    'cloudtrail-logs-request.json': body('9a7b6c5d-4e3f-4a2b-8c1d-0e9f8a7b6c81', [gzipSync(JSON.stringify(trail))]),
    'eventbridge-event.json': `${JSON.stringify(eventBridgeEvent(), null, 2)}\n`,
    'vpc-flow-logs-request.json': body('7d3c2b1a-0f9e-4d8c-b7a6-5e4f3d2c1b01', [
      Buffer.from(`${FLOW_LOG_LINES.accepted}\n${FLOW_LOG_LINES.rejected}\n`),
      Buffer.from(`${FLOW_LOG_LINES.noData}\n`),
    ]),
    // Transaction Search's aws/spans log group: a Lambda invocation, an ECS service span and a converted X-Ray segment.
    'spans-request.json': body('2f4e6a8c-1b3d-4f5a-9c7e-8d6b4a2c0e91', [
      gzipSync(JSON.stringify(spansMessage([...lambdaTrace(), ecsSpan(), xraySegmentSpan()]))),
    ]),
    'logs-request.json': body('0c6e1d7a-93a5-4f0e-8b7e-2d5f6a7b8c91', [gzipSync(JSON.stringify(lambda)), gzipSync(JSON.stringify(CONTROL_MESSAGE))]),
  };
}
