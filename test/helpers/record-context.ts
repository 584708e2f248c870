import { compileLogOptions, type LogOptionsConfig } from '../../src/decode/log-options.ts';
import { DEFAULT_VPC_FLOW_LOG_FORMAT } from '../../src/decode/vpc-flow-logs.ts';
import { EnrichmentStats } from '../../src/enrich/enrichment-stats.ts';
import type { RecordContext } from '../../src/pipeline/record-codecs.ts';

/** A RecordContext as the pipeline builds one per request, for codec-level tests: nothing on by default. */
export function recordContext(overrides: Partial<RecordContext> = {}, logs: Partial<LogOptionsConfig> = {}): RecordContext {
  return {
    resourceAttributes: [],
    region: 'eu-west-1',
    account: '123456789012',
    observedAtMs: 1_795_000_999_000,
    maxBatchBytes: 4 * 1024 * 1024,
    maxRecordBytes: 32 * 1024 * 1024,
    enrichment: undefined,
    stats: new EnrichmentStats(),
    metricFormat: 'auto',
    attributesOn: 'datapoint',
    logFormat: 'auto',
    logs: compileLogOptions({
      vpcFlowLogFormat: DEFAULT_VPC_FLOW_LOG_FORMAT,
      cloudTrailLogGroups: [],
      detectCloudTrail: true,
      namePatterns: [],
      metrics: [],
      ...logs,
    }),
    derived: undefined,
    meterRecords: undefined,
    spans: undefined,
    ...overrides,
  };
}
