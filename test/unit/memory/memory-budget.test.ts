import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { gunzipRecord } from '../../../src/decode/gzip.ts';
import { collectBody } from '../../../src/firehose/body.ts';
import { BufferPool } from '../../../src/memory/buffer-pool.ts';
import { BUDGET_WAIT_MS, MemoryBudget, MemoryShare, RequestMemory, containerMemoryLimit, defaultMemoryBudget } from '../../../src/memory/memory-budget.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A cgroup file holding `text`. */
function cgroupFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'firetap-cgroup-')), 'memory.max');
  writeFileSync(path, `${text}\n`);
  return path;
}

describe('the container memory limit', () => {
  it('is read from cgroup v2 or v1, and is none for "max", for v1\'s "no limit" and without either file', () => {
    expect(containerMemoryLimit([cgroupFile(String(GiB))], 64 * GiB)).toBe(GiB);
    expect(containerMemoryLimit(['/nonexistent/memory.max', cgroupFile(String(512 * MiB))], 64 * GiB)).toBe(512 * MiB);
    expect(containerMemoryLimit([cgroupFile('max'), cgroupFile(String(GiB))], 64 * GiB)).toBeUndefined();
    expect(containerMemoryLimit([cgroupFile('9223372036854771712')], 64 * GiB)).toBeUndefined();
    expect(containerMemoryLimit(['/nonexistent/a', '/nonexistent/b'], 64 * GiB)).toBeUndefined();
  });

  it('gives a default budget of half of it, else half of FIRETAP_MAX_RSS_BYTES', () => {
    expect(defaultMemoryBudget(0, GiB)).toBe(512 * MiB);
    expect(defaultMemoryBudget(800 * MiB, GiB)).toBe(512 * MiB);
    expect(defaultMemoryBudget(800 * MiB, undefined)).toBe(400 * MiB);
  });

  it('is what the configuration falls back to, and FIRETAP_MEMORY_BUDGET_BYTES overrides it', () => {
    expect(loadConfig({ FIRETAP_MAX_RSS_BYTES: String(800 * MiB) }).memoryBudgetBytes).toBe(defaultMemoryBudget(800 * MiB));
    expect(loadConfig({ FIRETAP_MEMORY_BUDGET_BYTES: String(300 * MiB) }).memoryBudgetBytes).toBe(300 * MiB);
    expect(() => loadConfig({ FIRETAP_MEMORY_BUDGET_BYTES: '-1' })).toThrow(/FIRETAP_MEMORY_BUDGET_BYTES/);
  });
});

describe('MemoryBudget', () => {
  it('grants what fits at once, makes a taker wait for what another gives back, and refuses with 503 after a second', async () => {
    const budget = new MemoryBudget(10 * MiB);
    const a = new MemoryShare(budget);
    const b = new MemoryShare(budget);
    expect(a.tryGrow(8 * MiB)).toBe(true);
    expect(b.tryGrow(4 * MiB)).toBe(false);
    const waiting = b.grow(4 * MiB);
    setTimeout(() => a.release(), 50);
    await waiting;
    expect([a.bytes, b.bytes, budget.inUse]).toEqual([0, 4 * MiB, 4 * MiB]);

    a.tryGrow(6 * MiB);
    const started = Date.now();
    const refused = await b.grow(MiB).catch((err: unknown) => err);
    expect(Date.now() - started).toBeGreaterThanOrEqual(BUDGET_WAIT_MS - 20);
    expect(refused).toMatchObject({ code: 'FIRETAP_OVERLOADED', retryable: true, retryAfterMs: 1000 });
    expect(budget.inUse).toBe(10 * MiB); // the refused taker took nothing
    a.release();
    b.release();
    expect(budget.inUse).toBe(0);
  });

  it('lets a request that holds everything taken go past the limit, for its body and its records, so that it still goes through alone', () => {
    const budget = new MemoryBudget(MiB);
    const alone = new RequestMemory(budget);
    expect(alone.body.tryGrow(4 * MiB)).toBe(true);
    expect(alone.records.tryGrow(2 * MiB)).toBe(true);
    expect(new MemoryShare(budget).tryGrow(1)).toBe(false);
    alone.release();
    expect(budget.inUse).toBe(0);
  });
});

describe('bodies and records against the budget', () => {
  const spaces = (n: number) => Buffer.alloc(n, 0x20);

  it("holds a body's buffers while it is read, and gives them all back when the body is refused", async () => {
    const budget = new MemoryBudget(64 * MiB);
    const share = new MemoryShare(budget);
    const body = await collectBody(Readable.from([spaces(3 * MiB)]), undefined, true, 16 * MiB, new BufferPool(0), false, share);
    expect(body.length).toBe(3 * MiB);
    expect(share.bytes).toBeGreaterThanOrEqual(3 * MiB);
    share.release();
    await expect(
      collectBody(Readable.from([spaces(MiB), spaces(MiB), spaces(MiB)]), undefined, true, 2 * MiB, new BufferPool(0), false, share),
    ).rejects.toThrow(/larger than 2097152 bytes/);
    expect(budget.inUse).toBe(0);
  });

  it('covers a body sized from its Content-Length as it arrives, not from its first byte', async () => {
    const budget = new MemoryBudget(256 * MiB);
    const share = new MemoryShare(budget);
    const upload = new PassThrough();
    const collecting = collectBody(upload, 32 * MiB, false, 96 * MiB, new BufferPool(0), false, share);
    upload.write(spaces(2 * MiB));
    await new Promise((r) => setTimeout(r, 20));
    // A slow upload announcing 32 MiB holds what it sent, rounded up, not 32 MiB of the budget.
    expect(share.bytes).toBeGreaterThanOrEqual(2 * MiB);
    expect(share.bytes).toBeLessThanOrEqual(4 * MiB);
    upload.end(spaces(30 * MiB));
    expect((await collecting).length).toBe(32 * MiB);
    expect(share.bytes).toBe(32 * MiB);
  });

  it('answers 503 for a body whose buffers the budget cannot hold while others hold it', async () => {
    const budget = new MemoryBudget(8 * MiB);
    const other = new MemoryShare(budget);
    other.tryGrow(6 * MiB);
    const share = new MemoryShare(budget);
    await expect(collectBody(Readable.from([spaces(4 * MiB)]), undefined, true, 16 * MiB, new BufferPool(0), false, share)).rejects.toMatchObject({
      code: 'FIRETAP_OVERLOADED',
    });
    expect(budget.inUse).toBe(6 * MiB);
  });

  it('inflates a record exactly, taking its bytes from the share, and stops a bomb at the record cap', async () => {
    const budget = new MemoryBudget(256 * MiB);
    const share = new MemoryShare(budget);
    const plain = Buffer.from(Array.from({ length: 300_000 }, (_, i) => `line ${i}\n`).join(''));
    expect((await gunzipRecord(gzipSync(plain), 32 * MiB, share)).equals(plain)).toBe(true);
    expect(share.bytes).toBeGreaterThanOrEqual(plain.length);
    await expect(gunzipRecord(gzipSync(spaces(64 * MiB)), 8 * MiB, share)).rejects.toThrow(/inflates to more than 8388608 bytes/);
    // The share was given back for the new record first, and the bomb took no more than the cap and one output buffer.
    expect(share.bytes).toBeLessThanOrEqual(16 * MiB);
    await expect(gunzipRecord(Buffer.from([0x1f, 0x8b, 1, 2, 3]), MiB, share)).rejects.toThrow(/not valid gzip/);
  });

  it("pauses a record's inflation while the budget is full, and resumes it when another share is given back", async () => {
    // 12 MiB come out in buffers of 8 MiB: the first fits beside the other share, the second only once it is given back.
    const budget = new MemoryBudget(16 * MiB);
    const other = new MemoryShare(budget);
    other.tryGrow(4 * MiB);
    const share = new MemoryShare(budget);
    const plain = Buffer.alloc(12 * MiB, 'abcdefg');
    const record = gzipSync(plain);
    const started = Date.now();
    setTimeout(() => other.release(), 200);
    expect((await gunzipRecord(record, 32 * MiB, share)).equals(plain)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    // Without room within a second: 503, the request retried.
    share.release();
    expect(other.tryGrow(budget.limit)).toBe(true);
    await expect(gunzipRecord(record, 32 * MiB, share)).rejects.toMatchObject({ code: 'FIRETAP_OVERLOADED' });
    expect(share.bytes).toBe(0);
  });
});
