import fastifyCompress from '@fastify/compress';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SIGNALS, type Signal } from '../config/schema.ts';
import { FiretapError } from '../errors.ts';
import { MAX_OFF_THREAD_BODY_BYTES, deliver, type DeliveryReport, type PipelineDeps } from '../pipeline/deliver.ts';
import { LOG_FORMATS, METRIC_FORMATS, type LogFormat, type MetricFormat } from '../decode/formats.ts';
import { createErrorHandler, requestIdOf, type ErrorShape } from '../server/error-handler.ts';
import { admission } from '../server/admission.ts';
import { trackRequestMemory } from '../memory/memory-budget.ts';
import type { RouteDescription } from '../server/not-found.ts';
import { createAccessKeyGuard } from '../server/access-keys.ts';
import { parseCommonAttributes, parseSourceArn } from './common-attributes.ts';
import { collectBody } from './body.ts';
import { scanEnvelope } from './envelope.ts';
import { firehoseResponse } from './response.ts';

declare module 'fastify' {
  interface FastifyRequest {
    firetapReport: DeliveryReport | undefined;
  }
}

/** Firehose sends at most 10,000 records per request. */
export const MAX_RECORDS_PER_REQUEST = 10_000;

export const FIREHOSE_ROUTES: Readonly<Record<Signal, string>> = { metrics: '/firehose/metrics', logs: '/firehose/logs', traces: '/firehose/traces' };

/** The traces route reads one kind of record: spans (a subscription message of spans, or span JSON). */
const TRACE_FORMATS: readonly string[] = ['aws-spans'];

/** Every answer of a Firehose route, failures included, is a Firehose response. */
const firehoseShape: ErrorShape = (request, message) => firehoseResponse(requestIdOf(request), message);

const described = { shape: firehoseShape, describedOnGet: true, methodHint: 'Firehose delivers with POST' };
export const FIREHOSE_ROUTE_DESCRIPTIONS: readonly RouteDescription[] = [
  {
    path: FIREHOSE_ROUTES.metrics,
    ...described,
    purpose:
      'the HTTP endpoint URL of a Firehose stream that a CloudWatch metric stream (OpenTelemetry 1.0, 0.7 or JSON) delivers to; Firehose sends POST requests',
  },
  {
    path: FIREHOSE_ROUTES.logs,
    ...described,
    purpose:
      'the HTTP endpoint URL of a Firehose stream of CloudWatch Logs subscription records or raw log records (WAF, VPC flow logs, lines); Firehose sends POST requests',
  },
  {
    path: FIREHOSE_ROUTES.traces,
    ...described,
    purpose:
      'the HTTP endpoint URL of a Firehose stream of spans: the subscription of the Transaction Search log group aws/spans (or span JSON); Firehose sends POST requests',
  },
];

const headersSchema = {
  type: 'object',
  properties: {
    'x-amz-firehose-protocol-version': { type: 'string', enum: ['1.0'] },
    'x-amz-firehose-request-id': { type: 'string', maxLength: 256 },
  },
} as const;

const responseSchema = {
  type: 'object',
  properties: { requestId: { type: 'string' }, timestamp: { type: 'integer' }, errorMessage: { type: 'string' } },
  required: ['requestId', 'timestamp'],
} as const;

/**
 * The Firehose HTTP endpoint routes (protocol 1.0). Per request: the access key is checked before the
 * body is read; the body is un-gzipped by @fastify/compress and capped at maxBodyBytes *after*
 * decompression; the envelope is located; the pipeline delivers; the answer is always the Firehose
 * response JSON, never compressed.
 */
export async function firehoseRoutes(app: FastifyInstance, deps: PipelineDeps): Promise<void> {
  const { config, metrics } = deps;
  const requireKey = createAccessKeyGuard(config.accessKeys);

  app.decorateRequest('firetapReport', undefined);
  app.setErrorHandler(createErrorHandler(firehoseShape));

  await app.register(fastifyCompress, {
    globalCompression: false,
    // Copied onto the zlib error, which then reaches the error handler as a 400.
    onInvalidRequestPayload: (encoding: string, _request: unknown, error: Error) => ({
      name: 'FiretapError',
      statusCode: 400,
      code: 'FIRETAP_BAD_REQUEST',
      message: `request body is not valid ${encoding}: ${error.message}`,
    }),
  });

  // Firehose sends application/json; curl users may send anything. The body is located, not parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (request, payload, done) => {
    const declared = Number(request.headers['content-length']);
    const encoded = request.headers['content-encoding'] !== undefined && request.headers['content-encoding'] !== 'identity';
    // A metrics body a decode thread will read goes to shared memory (one it will not read is not zero-filled for nothing).
    const shared = deps.decoders !== undefined && request.routeOptions.url === FIREHOSE_ROUTES.metrics && !(declared > MAX_OFF_THREAD_BODY_BYTES);
    collectBody(payload, Number.isFinite(declared) ? declared : undefined, encoded, config.maxBodyBytes, deps.buffers, shared, request.firetapMemory.body).then(
      (body) => done(null, body),
      // The connection closed under the body (the client left, or FIRETAP_BODY_TIMEOUT_MS closed it): no fault of ours.
      (err: NodeJS.ErrnoException) =>
        done(
          request.raw.destroyed && err.code === 'ECONNRESET'
            ? new FiretapError('FIRETAP_BAD_REQUEST', 'the connection closed before the request body had arrived', { cause: err })
            : err,
        ),
    );
  });

  if (config.accessKeys.length > 0) {
    app.addHook('onRequest', async (request) => requireKey(request));
  }

  await admission(app, { config, metrics });
  trackRequestMemory(app, deps.memory);

  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ route }, reply.elapsedTime / 1000);
    const report = request.firetapReport;
    // Success at info; a refusal (the sender's to fix) or shed load at warn; a failure (ours or the backend's) at error.
    const level = reply.statusCode < 400 ? 'info' : reply.statusCode < 500 || request.firetapShed ? 'warn' : 'error';
    request.log[level](
      {
        requestId: requestIdOf(request),
        route,
        status: reply.statusCode,
        latencyMs: Math.round(reply.elapsedTime),
        ...(report ?? {}),
        ...(request.firetapError ? { error: request.firetapError } : {}),
      },
      reply.statusCode === 200 ? 'delivered' : 'not delivered',
    );
  });

  for (const signal of SIGNALS) {
    app.post(FIREHOSE_ROUTES[signal], { schema: { headers: headersSchema, response: { 200: responseSchema } }, compress: false }, async (request, reply) => {
      const receivedAtMs = Date.now();
      const formats: readonly string[] = signal === 'metrics' ? METRIC_FORMATS : signal === 'logs' ? LOG_FORMATS : TRACE_FORMATS;
      const format = (request.query as { format?: string }).format ?? (signal === 'traces' ? 'aws-spans' : config[signal].format);
      if (!formats.includes(format)) {
        throw new FiretapError(
          'FIRETAP_BAD_REQUEST',
          `unknown ?format=${String(format).slice(0, 40)} on ${FIREHOSE_ROUTES[signal]}; expected one of ${formats.join(', ')}`,
        );
      }
      const body = request.body as Buffer;
      const memory = request.firetapMemory;
      memory.handling = true;
      try {
        metrics.requestBytes.observe({ route: FIREHOSE_ROUTES[signal] }, body.length);
        let envelope: ReturnType<typeof scanEnvelope>;
        try {
          envelope = scanEnvelope(body, MAX_RECORDS_PER_REQUEST);
        } catch (err) {
          // The answer still carries the request's id: the header's, else what the body says it is.
          if (typeof request.headers['x-amz-firehose-request-id'] !== 'string') request.firetapRequestId = sniffRequestId(body);
          throw err;
        }
        const header = request.headers['x-amz-firehose-request-id'];
        const requestId = (typeof header === 'string' && header !== '' ? header : envelope.requestId) ?? '';
        if (requestId === '')
          throw new FiretapError('FIRETAP_BAD_REQUEST', 'missing request id: neither the X-Amz-Firehose-Request-Id header nor the body "requestId" is set');

        request.firetapRequestId = requestId;
        const common = parseCommonAttributes(request.headers['x-amz-firehose-common-attributes'] as string | undefined);
        if (common.error) {
          metrics.commonAttributesInvalid.inc();
          request.log.warn({ requestId, error: common.error }, 'common attributes ignored');
        }
        const source = parseSourceArn(request.headers['x-amz-firehose-source-arn'] as string | undefined);
        const report: DeliveryReport = { records: 0, badRecords: 0, items: 0, exportedItems: 0, exports: 0, skippedItems: 0 };
        request.firetapReport = report;
        await deliver(
          deps,
          {
            signal,
            requestId,
            envelope,
            commonAttributes: common.attributes,
            region: source?.region,
            account: source?.account,
            receivedAtMs,
            log: request.log,
            metricFormat: (signal === 'metrics' ? format : 'auto') as MetricFormat,
            logFormat: (signal === 'logs' ? format : 'auto') as LogFormat,
            memory: memory.records,
          },
          report,
        );
        return reply.type('application/json').send(firehoseResponse(requestId));
      } finally {
        // deliver() has settled: nothing reads the body any more (records were copied out of it as strings).
        deps.buffers.release(body);
        memory.release();
      }
    });
  }
}

/** The "requestId" of a body that is not a valid Firehose request, when one can be read near its start. */
function sniffRequestId(body: Buffer): string | undefined {
  const match = /"requestId"\s*:\s*"([^"\\]{1,256})"/.exec(body.toString('utf8', 0, Math.min(body.length, 64 * 1024)));
  return match?.[1];
}
