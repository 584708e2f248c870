import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { serviceEnv, untilReady, type Service } from './service.ts';

/**
 * Starts the real service like startService, under a file limit (soft and hard) of `fileLimit`: through
 * `sh -c 'ulimit -n …; exec node …'`, so the limit holds from the process's first instruction.
 */
export async function startServiceWithFileLimit(fileLimit: number, env: Record<string, string>): Promise<Service> {
  const main = resolve(import.meta.dirname, '../../src/main.ts');
  return untilReady(
    spawn('sh', ['-c', `ulimit -n ${fileLimit} && exec "$0" "$@"`, process.execPath, main], { env: serviceEnv(env), stdio: ['pipe', 'pipe', 'pipe'] }),
  );
}

export interface SlowClient {
  readonly socket: Socket;
  /** Everything the server sent. */
  received(): string;
  /** Resolves once the server (or anything) closed the connection, with ms since it was opened. */
  readonly closed: Promise<number>;
  stop(): void;
}

/** A connection that sends `start` at once, then one byte of `trickle` every `everyMs`, never finishing. */
export function slowClient(port: number, start: string, everyMs: number): SlowClient {
  const socket = connect(port, '127.0.0.1');
  const opened = Date.now();
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString()));
  socket.on('error', () => {});
  socket.write(start);
  const timer = setInterval(() => socket.write('x'), everyMs);
  // Not events.once: it would reject on the socket's 'error' (a reset is a way of being closed here).
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve(Date.now() - opened);
    }),
  );
  return {
    socket,
    received: () => text,
    closed,
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** The head of a Firehose request that promises `length` bytes of body. */
export const uploadHead = (path: string, length: number, headers: Record<string, string>): string =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

/**
 * A slow-loris flood: `initial` connections at once, then `perSecond` more each second until stop(), each
 * sending an unfinished request head and a byte every `everyMs`. A connection the server closes stays closed.
 */
export function connectionFlood(port: number, opts: { initial: number; perSecond: number; everyMs: number }) {
  let opened = 0;
  const live = new Set<SlowClient>();
  const open = (): void => {
    opened++;
    const client = slowClient(port, 'POST /firehose/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', opts.everyMs);
    live.add(client);
    void client.closed.then(() => live.delete(client));
  };
  for (let i = 0; i < opts.initial; i++) open();
  // Ten times a second, a tenth of perSecond.
  const more = setInterval(() => {
    for (let i = 0; i < opts.perSecond / 10; i++) open();
  }, 100);
  return {
    opened: () => opened,
    live: () => live.size,
    async stop(): Promise<void> {
      clearInterval(more);
      const all = [...live];
      for (const c of all) c.stop();
      await Promise.all(all.map((c) => c.closed));
    },
  };
}
