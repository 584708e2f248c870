import { describe, expect, it } from 'vitest';
import { connectionLimits, defaultMaxConnections, httpTimeouts, openFileLimit } from '../../../src/server/connections.ts';

const limits = (soft: string, hard = '1048576') =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63704                63704                processes \nMax open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     \nMax locked memory         8388608              8388608              bytes     \n`;

describe('the file limit', () => {
  it('is the soft "Max open files" of /proc/self/limits', () => {
    expect(openFileLimit(() => limits('1024'))).toBe(1024);
    expect(openFileLimit(() => limits('65536', '65536'))).toBe(65536);
  });

  it('is unknown when unlimited, unreadable or absent', () => {
    expect(openFileLimit(() => limits('unlimited', 'unlimited'))).toBeUndefined();
    expect(openFileLimit(() => 'Max processes 1 1 processes\n')).toBeUndefined();
    expect(
      openFileLimit(() => {
        throw new Error('ENOENT');
      }),
    ).toBeUndefined();
  });

  it('is read from this process on Linux', () => {
    if (process.platform !== 'linux') return;
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});

describe('the default connection limit', () => {
  it('leaves 256 files for everything else, or half of a small limit, and is at most 10,000', () => {
    expect(defaultMaxConnections(1024)).toBe(768);
    expect(defaultMaxConnections(4096)).toBe(3840);
    expect(defaultMaxConnections(300)).toBe(150);
    expect(defaultMaxConnections(1)).toBe(1);
    expect(defaultMaxConnections(1_048_576)).toBe(10_000);
  });

  it('assumes the usual 1024 when the file limit is unknown', () => {
    expect(defaultMaxConnections(undefined)).toBe(768);
  });

  it('gives way to FIRETAP_MAX_CONNECTIONS', () => {
    expect(connectionLimits({ maxConnections: 50_000, headersTimeoutMs: 1, bodyTimeoutMs: 2 }, 1024).maxConnections).toBe(50_000);
    expect(connectionLimits({ headersTimeoutMs: 1, bodyTimeoutMs: 2 }, 4096).maxConnections).toBe(3840);
  });
});

describe('the http timeouts', () => {
  it("are checked often enough to fire close to their time, not after node's 30 s default interval", () => {
    expect(httpTimeouts({ maxConnections: 1, headersTimeoutMs: 15_000, bodyTimeoutMs: 60_000 })).toEqual({
      headersTimeout: 15_000,
      requestTimeout: 60_000,
      connectionsCheckingInterval: 1000,
    });
    expect(httpTimeouts({ maxConnections: 1, headersTimeoutMs: 1000, bodyTimeoutMs: 2000 }).connectionsCheckingInterval).toBe(250);
  });

  it('never give a head longer than the whole request (node refuses headersTimeout > requestTimeout)', () => {
    expect(httpTimeouts({ maxConnections: 1, headersTimeoutMs: 30_000, bodyTimeoutMs: 10_000 })).toMatchObject({
      headersTimeout: 10_000,
      requestTimeout: 10_000,
    });
  });
});
