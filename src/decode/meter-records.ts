import { encodeMetricsRequest, jsonNanos, jsonString } from '../otlp/schema.ts';
import { SCOPE_NAME } from '../version.ts';
import { isJsonObject } from '../json-object.ts';
import { FiretapError } from '../errors.ts';
import type { MeterIdStore } from '../state/meter-id-store.ts';

/** A usage meter record as billing systems (Amberflo's ingest API among them) take it. */
export interface MeterRecord {
  meterApiName: string;
  customerId: string;
  meterTimeInMillis: number;
  meterValue: number;
  uniqueId: string;
  dimensions?: Record<string, string>;
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** Checks a parsed meter record; returns it, or the problem. */
export function validateMeterRecord(value: unknown): MeterRecord | string {
  if (!isJsonObject(value)) return 'meter record is not a JSON object';
  if (!nonEmpty(value.meterApiName)) return 'meter record has no meterApiName';
  if (!nonEmpty(value.customerId)) return 'meter record has no customerId';
  if (typeof value.meterTimeInMillis !== 'number' || !Number.isFinite(value.meterTimeInMillis)) return 'meter record has no numeric meterTimeInMillis';
  if (typeof value.meterValue !== 'number' || !Number.isFinite(value.meterValue)) return 'meter record has no numeric meterValue';
  if (!nonEmpty(value.uniqueId)) return 'meter record has no uniqueId (needed to count it once when Firehose delivers it again)';
  if (value.dimensions !== undefined && (!isJsonObject(value.dimensions) || !Object.values(value.dimensions).every((v) => typeof v === 'string'))) {
    return 'meter record dimensions are not an object of strings';
  }
  return value as unknown as MeterRecord;
}

/**
 * Remembers which meter records (by uniqueId) were delivered in the last `windowMs`, for the whole
 * process, at most `maxEntries` of them (the oldest are forgotten first). Only records of requests
 * that were acknowledged are remembered: a request that failed is sent again by Firehose, and its
 * records must then still count.
 */
export class MeterDeduplicator {
  private readonly seen = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxEntries: number;

  constructor(windowMs: number, maxEntries = 1_000_000) {
    this.windowMs = windowMs;
    this.maxEntries = maxEntries;
  }

  delivered(uniqueId: string, now = Date.now()): boolean {
    const at = this.seen.get(uniqueId);
    if (at === undefined) return false;
    if (now - at > this.windowMs) {
      this.seen.delete(uniqueId);
      return false;
    }
    return true;
  }

  remember(uniqueIds: Iterable<string>, now = Date.now()): void {
    for (const id of uniqueIds) {
      this.seen.delete(id);
      this.seen.set(id, now);
    }
    for (const [id, at] of this.seen) {
      if (this.seen.size <= this.maxEntries && now - at <= this.windowMs) break;
      this.seen.delete(id);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}

/** The fleet's dedupe of meter records (FIRETAP_STATE_URL): the store, and how long a confirmed uniqueId counts. */
export interface SharedMeterIds {
  readonly store: MeterIdStore;
  readonly windowMs: number;
}

/** What one request's meter records came to: the new ones, and those set aside. */
export class MeterCollector {
  readonly records: MeterRecord[] = [];
  readonly pending = new Set<string>();
  readonly invalid: Array<{ recordIndex: number; message: string; text: string }> = [];
  duplicates = 0;
  /** Set by the pipeline before each Firehose record, for the dead-letter entries. */
  recordIndex = 0;
  private readonly marker: string;
  private readonly dedupe: MeterDeduplicator;
  private readonly shared: SharedMeterIds | undefined;
  /** This attempt's reservation in the shared store, while it holds one. */
  private token: string | undefined;

  constructor(marker: string, dedupe: MeterDeduplicator, shared?: SharedMeterIds) {
    this.marker = marker;
    this.dedupe = dedupe;
    this.shared = shared;
  }

  /** Reads the meter record of a log line that carries the marker; a line without it is left alone. */
  scan(line: string): void {
    const at = line.indexOf(this.marker);
    if (at < 0) return;
    const text = line.slice(at + this.marker.length).trim();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      this.invalid.push({ recordIndex: this.recordIndex, message: `meter record after "${this.marker}" is not JSON: ${(err as Error).message}`, text });
      return;
    }
    const record = validateMeterRecord(parsed);
    if (typeof record === 'string') {
      this.invalid.push({ recordIndex: this.recordIndex, message: record, text });
      return;
    }
    if (this.pending.has(record.uniqueId) || this.dedupe.delivered(record.uniqueId)) {
      this.duplicates++;
      return;
    }
    this.pending.add(record.uniqueId);
    this.records.push(record);
  }

  /**
   * Reserves the new records' uniqueIds in the fleet's store (when there is one): those another replica
   * counted already become duplicates. Throws a retryable error when another attempt holds some of them
   * now (it may yet fail and release them): Firehose's retry finds them counted or free.
   */
  async reserve(): Promise<void> {
    if (!this.shared || this.pending.size === 0) return;
    const ids = [...this.pending];
    const { counted, elsewhere, token } = await this.shared.store.reserve(ids);
    this.token = token;
    const mine = ids.filter((id) => !counted.has(id) && !elsewhere.has(id));
    if (elsewhere.size > 0) {
      await this.shared.store.release(mine, token);
      this.token = undefined;
      throw new FiretapError('FIRETAP_OVERLOADED', `${elsewhere.size} meter record(s) of this request are being delivered by another request now; retry`, {
        retryable: true,
        retryAfterMs: 1000,
      });
    }
    if (counted.size === 0) return;
    for (const id of counted) this.pending.delete(id);
    const kept = this.records.filter((r) => !counted.has(r.uniqueId));
    this.duplicates += this.records.length - kept.length;
    this.records.splice(0, this.records.length, ...kept);
  }

  /** Marks this request's records delivered (call once the request is acknowledged). */
  async commit(): Promise<void> {
    this.dedupe.remember(this.pending);
    if (this.shared) await this.shared.store.confirm([...this.pending], this.shared.windowMs);
  }

  /** Gives this attempt's reservation back (its request failed: the retry must count the records). */
  async release(): Promise<void> {
    if (!this.shared || this.token === undefined) return;
    await this.shared.store.release([...this.pending], this.token);
    this.token = undefined;
  }

  /**
   * The records as OTLP metrics: one Sum point (delta) per meter, customer and dimension set, the
   * values added up, from the earliest to the latest meter time. Unprefixed ExportMetricsServiceRequest.
   */
  metricsFrame(resource: ReadonlyArray<[string, string]>): Uint8Array | undefined {
    if (this.records.length === 0) return undefined;
    const groups = new Map<string, { r: MeterRecord; sum: number; first: number; last: number; negative: boolean }>();
    for (const r of this.records) {
      const dims = Object.entries(r.dimensions ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const key = JSON.stringify([r.meterApiName, r.customerId, dims]);
      const g = groups.get(key);
      if (!g) groups.set(key, { r, sum: r.meterValue, first: r.meterTimeInMillis, last: r.meterTimeInMillis, negative: r.meterValue < 0 });
      else {
        g.sum += r.meterValue;
        g.first = Math.min(g.first, r.meterTimeInMillis);
        g.last = Math.max(g.last, r.meterTimeInMillis);
        g.negative ||= r.meterValue < 0;
      }
    }
    const metrics = [...groups.values()].map((g) => ({
      name: `meter.${g.r.meterApiName}`,
      sum: {
        aggregationTemporality: 1, // DELTA: each point counts only the records of this request
        isMonotonic: !g.negative,
        dataPoints: [
          {
            startTimeUnixNano: jsonNanos(g.first),
            timeUnixNano: jsonNanos(g.last),
            asDouble: g.sum,
            attributes: [
              jsonString('customer.id', g.r.customerId),
              jsonString('meter.api_name', g.r.meterApiName),
              ...Object.entries(g.r.dimensions ?? {}).map(([k, v]) => jsonString(k, v)),
            ],
          },
        ],
      },
    }));
    return encodeMetricsRequest(resource, metrics, SCOPE_NAME);
  }
}
