import { otlpTypes } from '../otlp/schema.ts';

/** One sample of a Prometheus series: a value at epoch milliseconds. */
export interface Sample {
  readonly value: number;
  readonly timestampMs: number;
}

/** A Prometheus series: its labels sorted by name (`__name__` among them) and its samples in time order. */
export interface PromSeries {
  readonly labels: ReadonlyArray<readonly [string, string]>;
  readonly samples: readonly Sample[];
}

/**
 * Series collected from one export request, found again by their labels. A label with an empty value is left
 * out (Prometheus treats it as absent); a second sample of a series at the same millisecond replaces the first.
 */
export class SeriesSet {
  private readonly byKey = new Map<string, { labels: Array<[string, string]>; samples: Map<number, number> }>();

  get size(): number {
    return this.byKey.size;
  }

  add(name: string, labels: Readonly<Record<string, string>>, value: number, timestampMs: number): void {
    const pairs: Array<[string, string]> = [['__name__', name]];
    for (const key of Object.keys(labels)) {
      const v = labels[key];
      if (v !== undefined && v !== '' && key !== '__name__') pairs.push([key, v]);
    }
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const key = pairs.map(([k, v]) => `${k}\u0000${v}`).join('\u0001');
    let series = this.byKey.get(key);
    if (!series) this.byKey.set(key, (series = { labels: pairs, samples: new Map() }));
    series.samples.set(timestampMs, value);
  }

  /** Every series, samples in time order (Prometheus refuses a series' samples out of order). */
  *series(): IterableIterator<PromSeries> {
    for (const { labels, samples } of this.byKey.values()) {
      const ordered = [...samples].sort((a, b) => a[0] - b[0]).map(([timestampMs, value]) => ({ timestampMs, value }));
      yield { labels, samples: ordered };
    }
  }
}

/** An OTLP KeyValue as protobufjs's toObject gives it (oneofs not named, defaults left out). */
interface KeyValue {
  readonly key?: string;
  readonly value?: Readonly<Record<string, unknown>>;
}

/** OTLP attributes as strings: scalars as they print, arrays and kvlists as JSON. */
export function attributeMap(attributes: readonly KeyValue[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of attributes ?? []) if (kv.key) out[kv.key] = anyValueText(kv.value);
  return out;
}

function anyValueText(value: Readonly<Record<string, unknown>> | undefined): string {
  if (!value) return '';
  if (typeof value.stringValue === 'string') return value.stringValue;
  for (const field of ['boolValue', 'intValue', 'doubleValue', 'bytesValue']) if (value[field] !== undefined) return String(value[field]);
  const nested = (value.arrayValue ?? value.kvlistValue) as { values?: unknown[] } | undefined;
  if (!nested) return '';
  if (value.arrayValue) return JSON.stringify((nested.values ?? []).map((v) => anyValueText(v as Record<string, unknown>)));
  return JSON.stringify(attributeMap(nested.values as KeyValue[]));
}

/** OTLP as protobufjs's toObject gives it (64-bit integers as numbers: milliseconds and counts stay exact). */
// biome-ignore lint/suspicious/noExplicitAny: walked by field name, as the OTLP schema lays it out
export type Otlp = Record<string, any>;

export function decodeMetricsRequest(payload: Uint8Array): Otlp {
  const T = otlpTypes.ExportMetricsServiceRequest;
  return T.toObject(T.decode(payload), { longs: Number, bytes: String, enums: Number, defaults: false, oneofs: false });
}

/** OTLP's nanoseconds (as a number) → Prometheus's milliseconds. */
export const millis = (nanos: unknown): number => Math.round(Number(nanos ?? 0) / 1e6);

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point carries no value. */
export const noRecordedValue = (point: { readonly flags?: number }): boolean => ((point.flags ?? 0) & 1) === 1;
