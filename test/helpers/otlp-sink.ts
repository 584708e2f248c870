import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeToJson } from '../../src/otlp/schema.ts';
import { debugLines } from '../../src/export/debug.ts';

export interface ReceivedExport {
  signal: 'metrics' | 'logs' | 'traces';
  headers: IncomingMessage['headers'];
  /** The request body after Content-Encoding was undone. */
  body: Buffer;
  /** OTLP/JSON of the body, decoded from protobuf by protobufjs reflection (or parsed, for http/json). */
  json: Record<string, any>;
}

/** What the sink answers to the next request: a status (and headers), after an optional delay. */
export interface SinkBehaviour {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  delayMs?: number;
}

/**
 * A real OTLP/HTTP receiver on loopback that can fail, slow down and recover. Accepted requests are
 * decoded independently of firetap's wire writer and kept for assertions.
 */
export class OtlpSink {
  readonly received: ReceivedExport[] = [];
  /** Every request seen, accepted or not. */
  attempts = 0;
  private readonly script: SinkBehaviour[] = [];
  private fallback: SinkBehaviour = { status: 200 };
  private decide: ((body: Buffer, attempt: number, path: string) => SinkBehaviour | undefined) | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.attempts++;
        const raw = Buffer.concat(chunks);
        const plain = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        const behaviour = this.decide?.(plain, this.attempts, req.url ?? '/') ?? this.script.shift() ?? this.fallback;
        const answer = () => {
          if (behaviour.status >= 200 && behaviour.status < 300) this.record(req, Buffer.concat(chunks));
          res.writeHead(behaviour.status, behaviour.headers ?? {});
          res.end(behaviour.body ?? '');
        };
        if (behaviour.delayMs) setTimeout(answer, behaviour.delayMs);
        else answer();
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private record(req: IncomingMessage, raw: Buffer): void {
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    const signal = req.url?.includes('logs') ? 'logs' : req.url?.includes('traces') ? 'traces' : 'metrics';
    const json = req.headers['content-type']?.includes('json') ? JSON.parse(body.toString('utf8')) : decodeToJson(signal, body);
    this.received.push({ signal, headers: req.headers, body, json });
  }

  /** Answers the next requests as given, in order; afterwards the default applies. */
  respond(...behaviours: SinkBehaviour[]): this {
    this.script.push(...behaviours);
    return this;
  }

  /** Answers 400 (bad data) to every request whose decoded body matches. */
  refuseWhen(predicate: (body: Buffer) => boolean): this {
    return this.decideBy((body) => (predicate(body) ? { status: 400, body: 'invalid data' } : undefined));
  }

  /** Decides each answer from the decoded body, the attempt number (1-based) and the path; undefined falls through. */
  decideBy(decide: ((body: Buffer, attempt: number, path: string) => SinkBehaviour | undefined) | undefined): this {
    this.decide = decide;
    return this;
  }

  /** Sets how every unscripted request is answered. */
  always(behaviour: SinkBehaviour): this {
    this.fallback = behaviour;
    return this;
  }

  /** Flat data points, log records or spans of every accepted export, resource and scope included. */
  lines(signal: 'metrics' | 'logs' | 'traces'): Array<Record<string, any>> {
    return this.received
      .filter((r) => r.signal === signal && !r.headers['content-type']?.includes('json'))
      .flatMap((r) => [...debugLines({ signal, payload: r.body })]);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
