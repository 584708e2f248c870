import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** firetap's own metrics, on a registry of their own so that every app instance (and test) is separate. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'firetap_' });
  const registers = [registry];
  let snapshotAges: () => Array<{ account: string; region: string; ageSeconds: number }> = () => [];
  let memoryBudget: () => { limit: number; inUse: number } = () => ({ limit: 0, inUse: 0 });
  return {
    registry,
    requests: new Counter({
      name: 'firetap_requests_total',
      help: 'Firehose requests answered, by route and HTTP status',
      labelNames: ['route', 'status'],
      registers,
    }),
    requestBytes: new Histogram({
      name: 'firetap_request_body_bytes',
      help: 'Size of Firehose request bodies after Content-Encoding was undone',
      labelNames: ['route'],
      buckets: [1e3, 1e4, 1e5, 1e6, 4e6, 16e6, 64e6, 128e6],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'firetap_request_duration_seconds',
      help: 'Time from a Firehose request arriving to its answer, by route',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    records: new Counter({ name: 'firetap_records_total', help: 'Firehose records received, by signal', labelNames: ['signal'], registers }),
    recordsRejected: new Counter({
      name: 'firetap_records_rejected_total',
      help: 'Firehose records that could not be decoded, by signal and reason',
      labelNames: ['signal', 'reason'],
      registers,
    }),
    meterRecords: new Counter({
      name: 'firetap_meter_records_total',
      help: 'Meter records found in log lines: new (forwarded), duplicate (already delivered, dropped), invalid (dead-lettered)',
      labelNames: ['outcome'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'firetap_dead_letter_records_total',
      help: 'Rejected records written to the dead-letter directory',
      labelNames: ['signal'],
      registers,
    }),
    items: new Counter({
      name: 'firetap_items_total',
      help: 'Data points (signal=metrics), log records (signal=logs) and spans (signal=traces), decoded (stage=received) and accepted by the backend (stage=exported)',
      labelNames: ['signal', 'stage'],
      registers,
    }),
    itemsSkipped: new Counter({
      name: 'firetap_items_skipped_total',
      help: 'Items not sent again on a retry of a request because an earlier attempt had delivered them',
      labelNames: ['signal'],
      registers,
    }),
    itemsRejectedByBackend: new Counter({
      name: 'firetap_items_rejected_by_backend_total',
      help: 'Items the OTLP backend reported as rejected in a partial success',
      labelNames: ['signal'],
      registers,
    }),
    exports: new Counter({
      name: 'firetap_exports_total',
      help: 'OTLP export requests, by signal and outcome (success, retryable, permanent)',
      labelNames: ['signal', 'outcome'],
      registers,
    }),
    exportRetries: new Counter({ name: 'firetap_export_retries_total', help: 'OTLP export attempts that were retried', labelNames: ['signal'], registers }),
    exporterFailures: new Counter({
      name: 'firetap_exporter_failures_total',
      help: 'Export requests one exporter of a signal did not accept in the end, by exporter type and outcome (retryable, permanent)',
      labelNames: ['signal', 'exporter', 'outcome'],
      registers,
    }),
    exportDuration: new Histogram({
      name: 'firetap_export_duration_seconds',
      help: 'Time to deliver one OTLP export request, retries included, by signal and outcome',
      labelNames: ['signal', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    requestsInFlight: new Gauge({ name: 'firetap_requests_in_flight', help: 'Firehose requests being processed now', registers }),
    requestsShed: new Counter({
      name: 'firetap_requests_shed_total',
      help: 'Firehose requests answered 503 without processing, by reason (concurrency, eventLoopDelay, heapUsedBytes, rssBytes …)',
      labelNames: ['reason'],
      registers,
    }),
    metricRequestsDecoded: new Counter({
      name: 'firetap_metric_requests_decoded_total',
      help: 'Metrics requests by where their records were decoded: a decode thread, or the main thread (threads busy, none configured, or a body over 16 MiB)',
      labelNames: ['thread'],
      registers,
    }),
    decodeThreadsRunning: new Gauge({
      name: 'firetap_decode_threads_running',
      help: 'Decode threads started and running (fewer than configured while one starts or after one was retired)',
      registers,
    }),
    decodeThreadRestarts: new Counter({
      name: 'firetap_decode_thread_restarts_total',
      help: 'Decode threads that stopped and were started again (their requests failed as retryable)',
      registers,
    }),
    exportsInFlight: new Gauge({ name: 'firetap_exports_in_flight', help: 'OTLP export requests being sent now', registers }),
    enrichmentResources: new Gauge({
      name: 'firetap_enrichment_resources',
      help: 'Resources in the tag cache, by account, region and namespace',
      labelNames: ['account', 'region', 'namespace'],
      registers,
    }),
    enrichmentSnapshotAge: new Gauge({
      name: 'firetap_enrichment_snapshot_age_seconds',
      help: 'Age of the tag cache snapshot of each account and region (it grows while refreshes fail)',
      labelNames: ['account', 'region'],
      registers,
      collect() {
        this.reset();
        for (const s of snapshotAges()) this.set({ account: s.account, region: s.region }, s.ageSeconds);
      },
    }),
    enrichmentStale: new Gauge({
      name: 'firetap_enrichment_snapshot_stale',
      help: '1 when the last refresh of an account and region failed and the previous snapshot is still in use',
      labelNames: ['account', 'region'],
      registers,
    }),
    enrichmentRefreshDuration: new Histogram({
      name: 'firetap_enrichment_refresh_duration_seconds',
      help: 'Time to refresh the whole tag cache',
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    enrichmentApiCalls: new Counter({
      name: 'firetap_enrichment_api_calls_total',
      help: 'AWS API calls made by discovery (each page is a call)',
      labelNames: ['api'],
      registers,
    }),
    enrichmentApiErrors: new Counter({
      name: 'firetap_enrichment_api_errors_total',
      help: 'AWS API calls that failed after the SDK retries, by API and error code',
      labelNames: ['api', 'code'],
      registers,
    }),
    enrichmentLookups: new Counter({
      name: 'firetap_enrichment_lookups_total',
      help: 'Data points and log resources looked up in the tag cache, by signal, namespace and outcome (hit, miss)',
      labelNames: ['signal', 'namespace', 'outcome'],
      registers,
    }),
    memoryBudgetBytes: new Gauge({
      name: 'firetap_memory_budget_bytes',
      help: 'The budget for decoded bytes of requests in flight (FIRETAP_MEMORY_BUDGET_BYTES), and what of it is taken now',
      labelNames: ['state'],
      registers,
      collect() {
        const { limit, inUse } = memoryBudget();
        this.set({ state: 'limit' }, limit);
        this.set({ state: 'in_use' }, inUse);
      },
    }),
    /** Set by the app: the memory budget reported on each scrape of /metrics. */
    setMemoryBudget(source: () => { limit: number; inUse: number }) {
      memoryBudget = source;
    },
    /** Set by the tag scraper: the snapshot ages reported on each scrape of /metrics. */
    setSnapshotAges(source: () => Array<{ account: string; region: string; ageSeconds: number }>) {
      snapshotAges = source;
    },
    connectionsOpen: new Gauge({ name: 'firetap_connections_open', help: 'Client connections open now (TCP, before any TLS handshake)', registers }),
    connectionsRefused: new Counter({
      name: 'firetap_connections_refused_total',
      help: 'Client connections closed because FIRETAP_MAX_CONNECTIONS were open: closed="waiting", the one that had waited longest for a request head; closed="new", the new one (none had waited 250 ms)',
      labelNames: ['closed'],
      registers,
    }),
    connectionsTimedOut: new Counter({
      name: 'firetap_connections_timed_out_total',
      help: 'Client connections closed because a phase took too long: handshake (TLS), head (request line and headers), body',
      labelNames: ['phase'],
      registers,
    }),
    samplerErrors: new Counter({
      name: 'firetap_sampler_errors_total',
      help: 'Background samples that failed (e.g. reading memory use while the file limit is reached); the service keeps running',
      labelNames: ['sampler'],
      registers,
    }),
    stateErrors: new Counter({
      name: 'firetap_state_errors_total',
      help: 'State store operations that failed and fell back to local memory (ledger_read, ledger_write, meter_reserve, meter_confirm, meter_release, lease, snapshot_publish, snapshot_load, iam_token)',
      labelNames: ['op'],
      registers,
    }),
    snapshotVersion: new Gauge({
      name: 'firetap_enrichment_snapshot_version',
      help: 'Version of the tag snapshot this replica serves (published by the fleet leader; 0: none yet)',
      registers,
    }),
    scraperLeader: new Gauge({
      name: 'firetap_enrichment_leader',
      help: '1 while this replica holds the scraper lease and scrapes AWS for the fleet',
      registers,
    }),
    commonAttributesInvalid: new Counter({
      name: 'firetap_common_attributes_invalid_total',
      help: 'Requests whose X-Amz-Firehose-Common-Attributes header could not be read (the request is still served)',
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Adds one request's tag-cache hits and misses per namespace (EnrichmentStats, once settled) to the lookup counter. */
export function countLookups(
  metrics: Metrics,
  signal: string,
  stats: { readonly hits: ReadonlyMap<string, number>; readonly misses: ReadonlyMap<string, number> },
): void {
  for (const [namespace, n] of stats.hits) metrics.enrichmentLookups.inc({ signal, namespace, outcome: 'hit' }, n);
  for (const [namespace, n] of stats.misses) metrics.enrichmentLookups.inc({ signal, namespace, outcome: 'miss' }, n);
}
