import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { ENV } from './load.ts';
import { configSchema } from './schema.ts';

/**
 * The configuration reference of docs/configuration.md, made from the schema's descriptions and the ENV
 * table, so that a setting is documented where it is defined. `npm run docs` writes it between the markers.
 */
export const BEGIN = '<!-- configuration:begin -->';
export const END = '<!-- configuration:end -->';

export interface Setting {
  readonly path: string;
  readonly env: readonly string[];
  readonly fileKey: string;
  readonly defaultText: string;
  readonly description: string | undefined;
}

type Schema = z.core.$ZodType;
type Meta = { description?: string; defaultText?: string };

const metaOf = (schema: Schema): Meta => (schema as unknown as { meta(): Meta | undefined }).meta() ?? {};
const defOf = (schema: Schema) =>
  schema._zod.def as unknown as { type: string; innerType?: Schema; defaultValue?: unknown; shape?: Record<string, Schema>; element?: Schema };

/** The schema under optional/default/prefault wrappers, and the default those give. */
function unwrap(schema: Schema): { inner: Schema; defaultValue: unknown } {
  let node = schema;
  let defaultValue: unknown;
  for (let def = defOf(node); def.type === 'optional' || def.type === 'default' || def.type === 'prefault'; def = defOf(node)) {
    if (def.type === 'default' && defaultValue === undefined) defaultValue = def.defaultValue;
    node = def.innerType!;
  }
  return { inner: node, defaultValue };
}

const MiB = 1024 * 1024;

function showDefault(path: string, value: unknown): string {
  if (value === undefined) return '—';
  if (Array.isArray(value)) return value.length === 0 ? '—' : `\`${value.join(',')}\``;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length === 0 ? '—' : `\`${JSON.stringify(value)}\``;
  if (typeof value === 'number' && path.endsWith('Bytes') && value >= MiB && value % MiB === 0) return `\`${value}\` (${value / MiB} MiB)`;
  return `\`${String(value)}\``;
}

function fileKeyOf(path: string, inner: Schema): string {
  const def = defOf(inner);
  if (def.type === 'record') return `\`${path}\` (map)`;
  if (def.type !== 'array') return `\`${path}\``;
  const element = unwrap(def.element!).inner;
  const shape = defOf(element).shape;
  if (!shape) return `\`${path}\` (list)`;
  const keys = Object.entries(shape).map(([key, s]) => (defOf(s).type === 'optional' ? `${key}?` : key));
  return `\`${path}\` (list of \`{${keys.join(', ')}}\`)`;
}

/** Every setting of the schema, in its order: objects are walked into, anything else is a setting. */
export function settings(): Setting[] {
  const out: Setting[] = [];
  const walk = (schema: Schema, path: string): void => {
    const { inner, defaultValue } = unwrap(schema);
    const shape = defOf(inner).shape;
    if (shape) {
      for (const [key, child] of Object.entries(shape)) walk(child, path ? `${path}.${key}` : key);
      return;
    }
    const meta = metaOf(schema);
    out.push({
      path,
      env: ENV.filter(([, p]) => p === path).map(([name]) => name),
      fileKey: fileKeyOf(path, inner),
      defaultText: meta.defaultText ?? showDefault(path, defaultValue),
      description: meta.description,
    });
  };
  walk(configSchema, '');
  return out;
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const codes = (names: readonly string[]): string => (names.length === 0 ? '—' : names.map((n) => `\`${n}\``).join(', '));

/** The table: one row per setting; a per-signal OTLP setting shares a row with its twin of the other signal. */
export function configurationTable(): string {
  const rows: string[] = ['| Environment | File key | Default | Meaning |', '|---|---|---|---|'];
  const all = settings();
  const seen = new Set<string>();
  for (const s of all) {
    if (seen.has(s.path)) continue;
    const twin = /^otlp\.metrics\./.test(s.path) ? all.find((t) => t.path === s.path.replace('otlp.metrics.', 'otlp.logs.')) : undefined;
    const group = twin ? [s, twin] : [s];
    for (const g of group) seen.add(g.path);
    const env = codes(group.flatMap((g) => g.env));
    const fileKey = group.map((g) => g.fileKey).join(', ');
    rows.push(`| ${cell(env)} | ${cell(fileKey)} | ${cell(s.defaultText)} | ${cell(s.description ?? '')} |`);
  }
  return rows.join('\n');
}

/** `document` with the text between the markers replaced by the table. */
export function withTable(document: string): string {
  const begin = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`expected ${BEGIN} … ${END} in the document`);
  return `${document.slice(0, begin + BEGIN.length)}\n${configurationTable()}\n${document.slice(end)}`;
}

export const DOCUMENT = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

if (import.meta.main) {
  const missing = settings().filter((s) => !s.description);
  if (missing.length > 0) {
    process.stderr.write(`settings without a description in the schema (add .describe()): ${missing.map((s) => s.path).join(', ')}\n`);
    process.exitCode = 1;
  } else {
    writeFileSync(DOCUMENT, withTable(readFileSync(DOCUMENT, 'utf8')));
    process.stdout.write(`wrote ${DOCUMENT}\n`);
  }
}
