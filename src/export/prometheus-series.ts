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

/** A data point's labels, sorted by name (empty values left out: Prometheus treats them as absent), with its series. */
export class LabelSet {
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  /** Finds the set among a request's (its pairs compared on a match). */
  readonly hash: number;
  /** The series with these labels (a handful: a point's statistics), by name and the extra label's value. */
  readonly series: Collected[] = [];
  /** The encoder's note of where it wrote the set's fields. */
  encoded: unknown;

  /** `pairs` sorted by name, none empty or `__name__` (see `of`). */
  constructor(pairs: ReadonlyArray<readonly [string, string]>) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < pairs.length; i++) hash = fnv(fnv(hash, pairs[i]![0]), pairs[i]![1]);
    this.pairs = pairs;
    this.hash = hash;
  }

  static of(labels: Readonly<Record<string, string>>): LabelSet {
    const pairs: Array<[string, string]> = [];
    for (const name of Object.keys(labels)) {
      const value = labels[name];
      if (value !== undefined && value !== '' && name !== '__name__') pairs.push([name, value]);
    }
    return new LabelSet(pairs.sort(byName));
  }

  sameLabels(other: LabelSet): boolean {
    const a = this.pairs;
    const b = other.pairs;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
    return true;
  }
}

export const byName = (a: readonly [string, string], b: readonly [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** FNV-1a over a string's UTF-16 code units, then a separator (so that ["ab", "c"] and ["a", "bc"] differ). */
function fnv(seed: number, text: string): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return Math.imul(h ^ 0xffff, 0x01000193);
}

/** A series: its name, label set, one label more (a summary's `quantile`, a bucket's `le`) and samples. */
export class Collected {
  readonly name: string;
  readonly labels: LabelSet;
  readonly extraName: string | undefined;
  readonly extraValue: string | undefined;
  /** The first sample, kept out of arrays: a series of a metric stream has one per request. */
  readonly timestamp: number;
  readonly value: number;
  /** Every sample, once there is a second. */
  more: { timestamps: number[]; values: number[] } | undefined = undefined;

  constructor(name: string, labels: LabelSet, extraName: string | undefined, extraValue: string | undefined, timestamp: number, value: number) {
    this.name = name;
    this.labels = labels;
    this.extraName = extraName;
    this.extraValue = extraValue;
    this.timestamp = timestamp;
    this.value = value;
  }

  add(timestamp: number, value: number): void {
    this.more ??= { timestamps: [this.timestamp], values: [this.value] };
    this.more.timestamps.push(timestamp);
    this.more.values.push(value);
  }

  get timestamps(): readonly number[] {
    return this.more?.timestamps ?? [this.timestamp];
  }

  get values(): readonly number[] {
    return this.more?.values ?? [this.value];
  }
}

/**
 * Series collected from one export request, found again by their labels (each set once per data point) and name.
 * A second sample of a series at the same millisecond replaces the first.
 */
export class SeriesSet {
  /** By hash: one set, or, when hashes collide, an array of them. */
  private readonly sets = new Map<number, LabelSet | LabelSet[]>();
  private readonly all: Collected[] = [];

  get size(): number {
    return this.all.length;
  }

  /** The request's one LabelSet of these labels. */
  labels(labels: Readonly<Record<string, string>>): LabelSet {
    return this.find(LabelSet.of(labels));
  }

  /** The request's one LabelSet of these pairs, sorted by name, none empty or `__name__`. */
  sortedLabels(pairs: ReadonlyArray<readonly [string, string]>): LabelSet {
    return this.find(new LabelSet(pairs));
  }

  private find(fresh: LabelSet): LabelSet {
    const known = this.sets.get(fresh.hash);
    if (known === undefined) this.sets.set(fresh.hash, fresh);
    else if (!Array.isArray(known)) {
      if (known.sameLabels(fresh)) return known;
      this.sets.set(fresh.hash, [known, fresh]);
    } else {
      for (const set of known) if (set.sameLabels(fresh)) return set;
      known.push(fresh);
    }
    return fresh;
  }

  add(name: string, labels: LabelSet, value: number, timestampMs: number, extraName?: string, extraValue?: string): void {
    const known = labels.series;
    for (let i = 0; i < known.length; i++) {
      const c = known[i]!;
      if (c.name === name && c.extraName === extraName && c.extraValue === extraValue) {
        c.add(timestampMs, value);
        return;
      }
    }
    const series = new Collected(name, labels, extraName, extraValue, timestampMs, value);
    known.push(series);
    this.all.push(series);
  }

  /** Every series as collected (labels not merged, samples not ordered), for the encoder. */
  collected(): readonly Collected[] {
    return this.all;
  }

  /** Every series, labels sorted (`__name__` among them) and samples in time order (Prometheus refuses them out of order). */
  *series(): IterableIterator<PromSeries> {
    for (const { name, labels, extraName, extraValue, timestamps, values } of this.all) {
      const extra = extraName === undefined ? undefined : ([extraName, extraValue!] as const);
      const pairs: Array<readonly [string, string]> = [['__name__', name], ...labels.pairs];
      if (extra) pairs.push(extra);
      if (extra || labels.pairs.some(([k]) => k < '__name__')) pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      yield { labels: pairs, samples: ordered(timestamps, values) };
    }
  }
}

export function ordered(timestamps: readonly number[], values: readonly number[]): Sample[] {
  let sorted = true;
  for (let i = 1; i < timestamps.length && sorted; i++) sorted = timestamps[i - 1]! < timestamps[i]!;
  if (sorted) return timestamps.map((timestampMs, i) => ({ timestampMs, value: values[i]! }));
  const byTime = new Map<number, number>();
  for (let i = 0; i < timestamps.length; i++) byTime.set(timestamps[i]!, values[i]!);
  return [...byTime].sort((a, b) => a[0] - b[0]).map(([timestampMs, value]) => ({ timestampMs, value }));
}
