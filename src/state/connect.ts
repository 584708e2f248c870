import { Redis } from 'ioredis';
import type { StateConfig } from './settings.ts';

/** Reconnection backoff: quick at first, then every 2 s while the store is away. */
const reconnectDelayMs = (attempt: number): number => Math.min(2000, 50 * 2 ** attempt);

/**
 * A client of the configured Valkey/Redis store (the password, when a file holds it, read by config/state-client.ts). Commands never queue while the store is away
 * (enableOfflineQueue off) and time out after timeoutMs, so that a store outage costs a request a
 * fallback to local memory, never a wait; the client reconnects in the background. Several commands
 * issued in one turn of the event loop go out as one pipeline (enableAutoPipelining).
 */
export function connectState(config: StateConfig & { readonly url: string }, secret: { readonly password?: string | undefined }): Redis {
  const url = new URL(config.url);
  const password = secret.password ?? (url.password === '' ? undefined : decodeURIComponent(url.password));
  const username = config.username ?? (url.username === '' ? undefined : decodeURIComponent(url.username));
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return new Redis({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 6379 : Number(url.port),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    db,
    ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    commandTimeout: config.timeoutMs,
    connectTimeout: Math.max(config.timeoutMs, 2000),
    retryStrategy: reconnectDelayMs,
    connectionName: 'firetap',
  });
}
