import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../telemetry/metrics.ts';

/** File descriptors kept for what is not a client connection: backend and AWS sockets, dead-letter files, threads, stdio. */
export const FILE_RESERVE = 256;
/** The default cap however high the file limit: ~10 KB of memory each while idle, ~100 MB in all. */
export const MAX_DEFAULT_CONNECTIONS = 10_000;
/** Assumed when the file limit cannot be read (not Linux): the usual soft limit. */
const FALLBACK_FILE_LIMIT = 1024;

/**
 * The soft "Max open files" of this process (RLIMIT_NOFILE, which Node has no API for), from the text of
 * /proc/self/limits; undefined when it cannot be read or is unlimited.
 */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  let text: string;
  try {
    text = read();
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  const n = Number(soft);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Client connections to allow under a file limit: the limit less FILE_RESERVE (half of a limit below twice
 * that), at most MAX_DEFAULT_CONNECTIONS. Past the limit, accept() and everything else that opens a file fail.
 */
export function defaultMaxConnections(fileLimit: number | undefined): number {
  const limit = fileLimit ?? FALLBACK_FILE_LIMIT;
  return Math.max(1, Math.min(MAX_DEFAULT_CONNECTIONS, limit - Math.min(FILE_RESERVE, Math.floor(limit / 2))));
}

export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

/** The limits of a configuration: FIRETAP_MAX_CONNECTIONS, else what the file limit leaves room for. */
export function connectionLimits(
  config: { maxConnections?: number | undefined; headersTimeoutMs: number; bodyTimeoutMs: number },
  fileLimit: number | undefined,
): ConnectionLimits {
  return {
    maxConnections: config.maxConnections ?? defaultMaxConnections(fileLimit),
    headersTimeoutMs: config.headersTimeoutMs,
    bodyTimeoutMs: config.bodyTimeoutMs,
  };
}

/** The node http server options that bound how long a request may take to arrive (Fastify passes them through). */
export function httpTimeouts(limits: ConnectionLimits) {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs);
  return {
    headersTimeout,
    requestTimeout: limits.bodyTimeoutMs,
    // How often node looks for expired heads and bodies (default 30 s: a 15 s timeout would fire after up to 45 s).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
}

/** The TLS socket's underlying TCP socket (what 'connection' saw), or the socket itself. */
const tcpOf = (socket: Socket): Socket => (socket as Socket & { _parent?: Socket })._parent ?? socket;

/**
 * Keeps client connections under `maxConnections`, so that a flood of connections cannot use up the file
 * limit (beyond it, accept() fails and so does every other open). Once full, a new connection closes the one
 * that has waited longest for a request head — first those that never sent one (a slow-loris flood), then
 * idle keep-alive ones — and when none has waited EVICTION_GRACE_MS (or every connection is busy with a
 * request), the new one is closed instead. A client that sends its request promptly is so still served
 * during a flood of slow connections, and connections served already keep being served. Also
 * closes TLS handshakes that take longer than the head timeout (TLS's own timer is reset by every byte).
 */
export function guardConnections(
  server: Server,
  opts: { limits: ConnectionLimits; fileLimit: number | undefined; tls: boolean; metrics: Metrics; log: FastifyBaseLogger },
): void {
  const { limits, metrics, log } = opts;
  const open = new Set<Socket>();
  // Since when each waits for a request head; insertion order is waiting order (the first has waited longest).
  const fresh = new Map<Socket, number>();
  const idle = new Map<Socket, number>();
  const handshakes = new WeakMap<Socket, NodeJS.Timeout>();
  let warnedAt = -Infinity;
  metrics.connectionsOpen.set(0);
  const room = opts.fileLimit === undefined ? undefined : opts.fileLimit - Math.min(FILE_RESERVE, Math.floor(opts.fileLimit / 2));
  if (room !== undefined && limits.maxConnections > room) {
    log.warn(
      { maxConnections: limits.maxConnections, fileLimit: opts.fileLimit },
      `FIRETAP_MAX_CONNECTIONS leaves fewer than ${FILE_RESERVE} of the ${opts.fileLimit} open files for anything else: raise the file limit (ulimit -n) or lower FIRETAP_MAX_CONNECTIONS`,
    );
  }

  const warn = () => {
    const now = Date.now();
    if (now - warnedAt < 60_000) return;
    warnedAt = now;
    log.warn(
      { maxConnections: limits.maxConnections },
      'connection limit reached (FIRETAP_MAX_CONNECTIONS): closing the connections that wait longest for a request; see firetap_connections_refused_total',
    );
  };

  server.on('connection', (socket: Socket) => {
    if (open.size >= limits.maxConnections) {
      warn();
      const now = performance.now();
      const oldest = waitedLongest(fresh, now) ?? waitedLongest(idle, now);
      if (oldest === undefined) {
        metrics.connectionsRefused.inc({ closed: 'new' });
        socket.destroy();
        return;
      }
      metrics.connectionsRefused.inc({ closed: 'waiting' });
      forget(oldest);
      oldest.destroy();
    }
    open.add(socket);
    fresh.set(socket, performance.now());
    metrics.connectionsOpen.set(open.size);
    socket.once('close', () => {
      forget(socket);
      metrics.connectionsOpen.set(open.size);
    });
    if (opts.tls) {
      const timer = setTimeout(() => {
        metrics.connectionsTimedOut.inc({ phase: 'handshake' });
        socket.destroy();
      }, httpTimeouts(limits).headersTimeout);
      timer.unref();
      handshakes.set(socket, timer);
      socket.once('close', () => clearTimeout(timer));
    }
  });
  if (opts.tls) {
    server.on('secureConnection', (tlsSocket: Socket) => clearTimeout(handshakes.get(tcpOf(tlsSocket))));
  }

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = tcpOf(request.socket);
    fresh.delete(socket);
    idle.delete(socket);
    response.once('finish', () => {
      answered.add(request);
      if (open.has(socket) && !socket.destroyed) idle.set(socket, performance.now());
    });
  });

  // An accept() failure (EMFILE past libuv's own remedy) is an 'error' on the listening server: without a
  // listener, an uncaught exception that would end the process. Errors before listening reject listen().
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (!server.listening) return;
    metrics.connectionsRefused.inc({ closed: 'new' });
    log.error({ err }, 'could not accept a connection');
  });

  function forget(socket: Socket): void {
    open.delete(socket);
    fresh.delete(socket);
    idle.delete(socket);
  }
}

/**
 * A connection accepted with others in one turn of the event loop has not been read yet: one that waits for
 * less than this is never closed for a newer one (the newer one is refused instead).
 */
const EVICTION_GRACE_MS = 250;

/** The socket that has waited longest, if it has waited at least EVICTION_GRACE_MS. */
function waitedLongest(waiting: Map<Socket, number>, now: number): Socket | undefined {
  for (const [socket, since] of waiting) return now - since >= EVICTION_GRACE_MS ? socket : undefined;
  return undefined;
}

const CLIENT_TIMEOUT = 'ERR_HTTP_REQUEST_TIMEOUT';

/** Requests answered already: a body still arriving after its answer (a 401, a 503) is only being drained. */
const answered = new WeakSet<IncomingMessage>();

/**
 * Fastify's clientErrorHandler: answers a request that did not arrive in time with 408 (a head that did
 * not arrive within FIRETAP_HEADERS_TIMEOUT_MS, or a body within FIRETAP_BODY_TIMEOUT_MS), counts it, and
 * closes the connection; other malformed requests as Fastify does (431, 400). The socket is closed, so a
 * request held an admission slot or a buffer for gives them back.
 */
export function createClientErrorHandler(limits: ConnectionLimits, metrics: Metrics) {
  return function clientErrorHandler(this: { log: FastifyBaseLogger }, err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    let status: number;
    let message: string;
    if (err.code === CLIENT_TIMEOUT) {
      const request = (socket as Socket & { parser?: { incoming?: IncomingMessage } }).parser?.incoming;
      const phase = request && !request.complete ? 'body' : 'head';
      metrics.connectionsTimedOut.inc({ phase });
      status = 408;
      message =
        phase === 'body'
          ? `request body not received within ${limits.bodyTimeoutMs} ms of the request's start (FIRETAP_BODY_TIMEOUT_MS)`
          : `request head not received within ${httpTimeouts(limits).headersTimeout} ms (FIRETAP_HEADERS_TIMEOUT_MS)`;
      // A body's sender got past the access key: worth a line. Heads time out by the thousand in a flood: counted only.
      if (request && phase === 'body' && !answered.has(request))
        this.log.warn({ requestId: request.headers['x-amz-firehose-request-id'], url: request.url, timeoutMs: limits.bodyTimeoutMs }, 'request body timed out');
      else this.log.debug({ phase }, `request ${phase} timed out`);
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      message = 'request headers are too large';
    } else {
      status = 400;
      message = 'malformed HTTP request';
    }
    const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    // Never in the middle of an answer already started on this socket.
    if (socket.writable && !response?.headersSent) {
      const body = JSON.stringify({ error: message });
      socket.write(
        `HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}
