import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';
import { createDeadLetter, type DeadLetterEntry } from '../../../src/pipeline/dead-letter.ts';
import { openDeadLetter } from '../../../src/pipeline/open-dead-letter.ts';
import { deadLetterKey, parseDeadLetterUrl } from '../../../src/pipeline/dead-letter-s3.ts';

const entry: DeadLetterEntry = { requestId: 'r-1', signal: 'logs', index: 3, reason: 'gzip', message: 'unexpected end of file', data: 'H4sI' };

describe('FIRETAP_DEAD_LETTER_URL', () => {
  it.each([
    ['s3://dlq', { bucket: 'dlq', prefix: '' }],
    ['s3://my.dlq-bucket-1/', { bucket: 'my.dlq-bucket-1', prefix: '' }],
    ['s3://dlq/firetap/prod/', { bucket: 'dlq', prefix: 'firetap/prod' }],
  ])('reads %s as bucket and prefix, and the configuration takes it', (url, expected) => {
    expect(parseDeadLetterUrl(url)).toEqual(expected);
    expect(loadConfig({ FIRETAP_DEAD_LETTER_URL: url }).deadLetterUrl).toBe(url);
  });

  it.each([
    'https://dlq/x',
    'dlq/x',
    's3://',
    's3:///x',
    's3://ab',
    's3://Upper',
    's3://dlq_bucket',
    's3://-dlq',
    's3://dlq-',
    's3://a..b/x',
    's3://192.168.1.1/x',
    `s3://${'a'.repeat(64)}`,
  ])('refuses %s at start, naming the setting and the form it takes', (url) => {
    expect(() => parseDeadLetterUrl(url)).toThrow(ConfigError);
    expect(() => parseDeadLetterUrl(url)).toThrow('FIRETAP_DEAD_LETTER_URL: expected s3://bucket[/prefix] with a valid bucket name');
    expect(() => loadConfig({ FIRETAP_DEAD_LETTER_URL: url })).toThrow(/FIRETAP_DEAD_LETTER_URL: expected s3:\/\/bucket\[\/prefix\] with a valid bucket name/);
  });

  it('keys each object by the UTC hour, the request id made safe for a key, and a random part', () => {
    const at = new Date('2026-12-04T07:05:09.123Z');
    const key = deadLetterKey('firetap/prod', 'req 1/../x?', at);
    expect(key).toMatch(/^firetap\/prod\/2026\/12\/04\/07\/req_1_.._x_-[0-9a-f]{12}\.jsonl$/);
    expect(deadLetterKey('firetap/prod', 'req 1/../x?', at)).not.toBe(key);
    expect(deadLetterKey('', 'r', at)).toMatch(/^2026\/12\/04\/07\/r-[0-9a-f]{12}\.jsonl$/);
  });

  it('takes the region from AWS_REGION or AWS_DEFAULT_REGION, and refuses to start without one', async () => {
    const url = 's3://dlq/p';
    expect((await openDeadLetter({ deadLetterUrl: url }, { AWS_DEFAULT_REGION: 'eu-west-1' }))?.location).toBe('s3://dlq/p');
    expect((await openDeadLetter({ deadLetterUrl: url }, { AWS_REGION: 'eu-west-1' }))?.location).toBe('s3://dlq/p');
    await expect(openDeadLetter({ deadLetterUrl: url }, {})).rejects.toThrow(
      new ConfigError("FIRETAP_DEAD_LETTER_URL: no AWS region for s3://dlq: set AWS_REGION (or AWS_DEFAULT_REGION) to the bucket's region"),
    );
  });

  it('refuses a directory and a URL together, and is off with neither', async () => {
    await expect(openDeadLetter({ deadLetterDir: '/tmp/x', deadLetterUrl: 's3://dlq' }, { AWS_REGION: 'eu-west-1' })).rejects.toThrow(ConfigError);
    expect(await openDeadLetter({}, {})).toBeUndefined();
  });
});

describe('the dead-letter file', () => {
  it('appends one JSON line per entry, with the time it was written', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'firetap-dlq-')), 'nested');
    const deadLetter = createDeadLetter(dir);
    await deadLetter.write([entry]);
    await deadLetter.write([{ ...entry, index: 4 }]);
    const lines = readFileSync(deadLetter.location, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), ...entry },
      { time: expect.any(String), ...entry, index: 4 },
    ]);
  });

  it('rejects a write while a file stands where the directory should be, and writes once it is gone', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'firetap-dlq-')), 'dead');
    writeFileSync(dir, 'not a directory');
    const deadLetter = createDeadLetter(dir);
    await expect(deadLetter.write([entry])).rejects.toThrow(/EEXIST|ENOTDIR/);
    rmSync(dir);
    await deadLetter.write([entry]);
    expect(readFileSync(deadLetter.location, 'utf8')).toContain('"requestId":"r-1"');
  });
});
