import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCUMENT, END, BEGIN, configurationTable, settings, withTable } from '../../../src/config/reference.ts';
import { ENV, loadConfig } from '../../../src/config/load.ts';

describe('the configuration reference (docs/configuration.md)', () => {
  it('is up to date with the schema and the ENV table (run `npm run docs` when this fails)', () => {
    const document = readFileSync(DOCUMENT, 'utf8');
    expect(document).toContain(BEGIN);
    expect(withTable(document)).toBe(document);
  });

  it('describes every setting, from the schema', () => {
    expect(
      settings()
        .filter((s) => !s.description)
        .map((s) => s.path),
    ).toEqual([]);
  });

  it('lists every environment variable firetap reads, each with its file key and default', () => {
    const table = configurationTable();
    for (const [name, path] of ENV) {
      const row = table.split('\n').find((line) => line.includes(`\`${name}\``));
      expect(row, name).toBeDefined();
      expect(row, name).toContain(`\`${path}\``);
    }
    expect(table).toMatch(/\| `FIRETAP_MAX_BODY_BYTES` \| `maxBodyBytes` \| `100663296` \(96 MiB\) \| Largest request body/);
  });

  it('gives a default that does not depend on the machine it was generated on', () => {
    const decodeThreads = settings().find((s) => s.path === 'decodeThreads');
    expect(decodeThreads?.defaultText).toBe('`1` with more than one CPU, else `0`');
    expect(settings().find((s) => s.path === 'maxRssBytes')?.defaultText).toMatch(/container's memory limit/);
  });

  it('keeps a table cell in one cell: a | in a meaning is escaped', () => {
    expect(configurationTable()).toContain('`arn[\\|externalId],…`');
  });

  it('shows a configuration file that firetap loads as written', () => {
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readFileSync(DOCUMENT, 'utf8'))?.[1];
    expect(yaml).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'firetap-config-doc-'));
    try {
      writeFileSync(join(dir, 'config.yaml'), yaml!);
      const config = loadConfig({ FIRETAP_CONFIG: join(dir, 'config.yaml') });
      expect(config.accessKeys).toEqual(['first-key', 'second-key']);
      expect(config.otlp.metrics.endpoint).toBe('http://otel-collector:4318/v1/metrics');
      expect(config.enrichment.roles[0]).toMatchObject({ externalId: 'my-external-id', regions: ['us-east-1'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a document without the markers, naming them', () => {
    expect(() => withTable('# no markers')).toThrow(END);
  });
});
