import { WireError } from '../otlp/wire-format.ts';
import { splitTracesRequest } from '../otlp/split-traces.ts';
import { type Exporter, type ExportResult, success } from './exporter.ts';

/**
 * Keeps every traces export within `maxSpans` spans and `maxBytes` bytes (X-Ray's OTLP endpoint refuses more than
 * 10,000 spans or 5 MB a request): a larger batch is sent as its pieces, one after the other, and is accepted when
 * every piece was. A batch grows past the size limit by the record that crossed it, and one record can hold more
 * spans than the limit.
 */
export function withSpanLimits(exporter: Exporter, maxSpans: number, maxBytes: number): Exporter {
  return {
    async export(request) {
      if (request.items <= maxSpans && request.payload.length <= maxBytes) return exporter.export(request);
      let pieces: ReturnType<typeof splitTracesRequest>;
      try {
        pieces = splitTracesRequest(request.payload, maxSpans, maxBytes);
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        return { status: 'permanent', message: `the traces batch could not be cut into requests of ${maxSpans} spans: ${err.message}` };
      }
      let rejected = 0;
      for (const piece of pieces) {
        const result: ExportResult = await exporter.export({ ...request, payload: piece.payload, items: piece.items });
        if (result.status !== 'success') return result;
        rejected += result.rejected ?? 0;
      }
      return rejected > 0 ? { status: 'success', rejected } : success;
    },
    shutdown: () => exporter.shutdown(),
  };
}
