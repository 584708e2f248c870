import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { createExporters, exporterTypes } from '../../../src/export/registry.ts';
import { createMetrics } from '../../../src/telemetry/metrics.ts';
import { metricStreamRequest, sampleDatapoints } from '../../helpers/cloudwatch-fixtures.ts';
import { OtlpSink } from '../../helpers/otlp-sink.ts';

describe('exporters chosen by type', () => {
  it('exports over OTLP/HTTP where an endpoint is set and prints where none is, unless told otherwise', () => {
    const perSignal = loadConfig({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:4318/v1/metrics' });
    expect([exporterTypes(perSignal, 'metrics'), exporterTypes(perSignal, 'logs')]).toEqual([['otlp-http'], ['debug']]);
    const told = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', FIRETAP_LOGS_EXPORTERS: 'debug, otlp-http' });
    expect([exporterTypes(told, 'metrics'), exporterTypes(told, 'logs')]).toEqual([['otlp-http'], ['debug', 'otlp-http']]);
  });

  it('refuses an unknown type, listing the known ones', () => {
    expect(() => loadConfig({ FIRETAP_METRICS_EXPORTERS: 'otlp-http,prometheus' })).toThrow(ConfigError);
    expect(() => loadConfig({ FIRETAP_METRICS_EXPORTERS: 'otlp-http,prometheus' })).toThrow(
      'FIRETAP_METRICS_EXPORTERS [1]: unknown exporter type "prometheus"; known types: otlp-http, prometheus-remote-write, debug',
    );
  });

  it('refuses a type listed twice, and a list of none', () => {
    expect(() => loadConfig({ FIRETAP_LOGS_EXPORTERS: 'debug,debug' })).toThrow('FIRETAP_LOGS_EXPORTERS: lists an exporter type twice; list each once');
    expect(() => loadConfig({ FIRETAP_LOGS_EXPORTERS: ',' })).toThrow(
      'FIRETAP_LOGS_EXPORTERS: expected at least one exporter type (otlp-http, prometheus-remote-write, debug)',
    );
  });

  it('names the missing endpoint when otlp-http is listed for a signal without one', () => {
    const config = loadConfig({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:4318/v1/metrics', FIRETAP_LOGS_EXPORTERS: 'otlp-http' });
    expect(() => createExporters(config, createMetrics())).toThrow(ConfigError);
    expect(() => createExporters(config, createMetrics())).toThrow(
      'FIRETAP_LOGS_EXPORTERS (logs.exporters) lists otlp-http, but no OTLP endpoint is set for logs: set OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
    );
  });

  describe('with a backend', () => {
    let sink: OtlpSink;
    beforeEach(async () => {
      sink = await new OtlpSink().start();
    });
    afterEach(() => sink.stop());

    it('prints instead of sending when debug alone is listed, although an endpoint is set', async () => {
      const debugOutput = new PassThrough();
      let printed = '';
      debugOutput.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
      const exporters = createExporters(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, FIRETAP_METRICS_EXPORTERS: 'debug' }), createMetrics(), {
        debugOutput,
      });
      const payload = metricStreamRequest({ account: '1', region: 'r', streamName: 's' }, sampleDatapoints(3));
      expect(await exporters.metrics.export({ signal: 'metrics', payload, items: 3, deadline: Date.now() + 5000 })).toEqual({ status: 'success' });
      expect(printed.trim().split('\n')).toHaveLength(3);
      expect(sink.attempts).toBe(0);
    });
  });
});
