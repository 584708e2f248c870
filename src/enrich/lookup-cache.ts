import { viewOf } from '../otlp/wire.ts';
import type { IndexedResource, ScopeIndex } from './snapshot.ts';

/** Data points of one namespace and outcome (hit or miss): counted in its cache's `counts[index]`. */
export interface Tally {
  readonly namespace: string;
  readonly hit: boolean;
  readonly index: number;
}

/** LookupCache.fieldsTag of an entry whose lookup found no resource (it has no attribute fields). */
export const NO_RESOURCE = -1;
/** Beyond this many bytes of keys and attribute fields the cache starts again too (fields of other tags pile up). */
const MAX_ARENA_BYTES = 64 * 1024 * 1024;

/**
 * The lookups made in one scope's snapshot, found again by the hash (lookupKeyHash) of the Namespace and the encoded
 * Dimensions list, checked byte for byte. It lives as long as the snapshot (a refresh builds a new ScopeIndex,
 * and with it a new cache), so that a fleet larger than one request's data points is looked up once, not once
 * per request.
 *
 * Laid out for the memory it touches per data point, which on a fleet is out of cache: an open-addressing
 * table of entry numbers, and per entry its hash, where its key and its resource's encoded attribute fields
 * lie in one byte arena (the key, then the fields), and its tally — typed arrays, no object per lookup on the
 * way. With a Map of arrays of lookup objects each holding two Buffers, a tagged data point cost ~0.5 µs more
 * than a plain one on a fleet of 2,400 resources against ~0.25 µs on a fleet of 10.
 */
export class LookupCache {
  /** Beyond this many lookups the cache starts again: a bound on memory whatever the input. */
  static readonly MAX_LOOKUPS = 50_000;
  size = 0;
  /** Slots of the open-addressing table: entry number + 1, 0 when free. */
  private slots = new Int32Array(1024);
  private hashes = new Int32Array(256);
  /** Per entry: key start, key end (in the arena). */
  private bounds = new Int32Array(2 * 256);
  /**
   * Per entry: how much of its key is the Namespace. The key is the Namespace's bytes then the Dimensions', so
   * without it a Namespace ending in what starts another's Dimensions would find that other's lookup (and skip
   * the check of its own Dimensions bytes).
   */
  private namespaceLengths = new Int32Array(256);
  /** Per entry: the attributes tag its fields were written for, 0 when none yet, NO_RESOURCE for a miss. */
  fieldsTag = new Int32Array(256);
  /** Per entry: its tally's index. */
  tallyOf = new Int32Array(256);
  resources: Array<IndexedResource | undefined> = [];
  /**
   * Per entry: its resource's encoded attribute fields, a view of the arena (usually just after its key), made
   * once: written with `TypedArray.set` from it (~13 ns for 200 bytes; see writeBytes) where Buffer.copy of an
   * arena range took ~42 ns, most of it the call — a fifth of what a tagged data point cost more than a plain one.
   */
  fields: Array<Uint8Array | undefined> = [];
  /**
   * Per entry, once a data point as CloudWatch writes it used it (its other attributes Namespace and MetricName):
   * its Dimensions as the rewrite writes them, then the fields — one copy instead of walking the dimensions
   * again, which was a third of what the rest of a tagged data point's rewrite cost.
   */
  dimensionsAndFields: Array<Uint8Array | undefined> = [];
  arena: Buffer = Buffer.allocUnsafeSlow(64 * 1024);
  /** The arena as a DataView, for keys compared four bytes at a time. */
  private arenaView = new DataView(this.arena.buffer, this.arena.byteOffset, this.arena.byteLength);
  private arenaLength = 0;
  /** Data points per tally since the counts were last settled. */
  counts = new Float64Array(16);
  /** Per namespace and outcome. */
  readonly tallies = new Map<string, Tally>();

  tally(namespace: string, hit: boolean): Tally {
    const key = (hit ? 'hit\u0000' : 'miss\u0000') + namespace;
    let tally = this.tallies.get(key);
    if (!tally) {
      tally = { namespace, hit, index: this.tallies.size };
      this.tallies.set(key, tally);
      if (tally.index >= this.counts.length) {
        const grown = new Float64Array(this.counts.length * 2);
        grown.set(this.counts);
        this.counts = grown;
      }
    }
    return tally;
  }

  /** The entry whose key is the bytes [nsStart, nsEnd) then [dStart, dEnd) of `buf`, or -1. */
  find(hash: number, buf: Uint8Array, nsStart: number, nsEnd: number, dStart: number, dEnd: number): number {
    const mask = this.slots.length - 1;
    const keyLength = nsEnd - nsStart + dEnd - dStart;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const e = this.slots[slot]! - 1;
      if (e < 0) return -1;
      if (this.hashes[e] !== hash) continue;
      const keyStart = this.bounds[2 * e]!;
      if (this.bounds[2 * e + 1]! - keyStart !== keyLength || this.namespaceLengths[e] !== nsEnd - nsStart) continue;
      if (keyMatches(this.arenaView, keyStart, buf, nsStart, nsEnd, dStart, dEnd)) return e;
    }
  }

  /** Adds the lookup of a key not found (find() returned -1); returns its entry. */
  add(
    hash: number,
    buf: Uint8Array,
    nsStart: number,
    nsEnd: number,
    dStart: number,
    dEnd: number,
    resource: IndexedResource | undefined,
    tally: Tally,
  ): number {
    const keyLength = nsEnd - nsStart + dEnd - dStart;
    if (this.size >= LookupCache.MAX_LOOKUPS || this.arenaLength + keyLength > MAX_ARENA_BYTES) this.clear();
    const e = this.size++;
    if (e >= this.hashes.length) this.growEntries();
    if (2 * this.size > this.slots.length) this.growSlots();
    const keyStart = this.append(buf, nsStart, nsEnd);
    this.append(buf, dStart, dEnd);
    this.hashes[e] = hash;
    this.bounds[2 * e] = keyStart;
    this.bounds[2 * e + 1] = keyStart + keyLength;
    this.namespaceLengths[e] = nsEnd - nsStart;
    this.fieldsTag[e] = resource ? 0 : NO_RESOURCE;
    this.tallyOf[e] = tally.index;
    this.resources[e] = resource;
    this.insert(e);
    return e;
  }

  /**
   * Copies entry `e`'s resource attribute fields for `attributesTag` to the arena (done once per entry and tag),
   * after `dimensions` when given (see dimensionsAndFields): the first data point of a lookup comes just after
   * its add(), so its key, dimensions and fields lie in one stretch of the arena, which a hit reads in one go.
   * Given the entry's own fields (a view of the arena) and dimensions, keeps the dimensions with a copy of them.
   */
  setFields(e: number, attributesTag: number, fields: Uint8Array, dimensions?: Uint8Array): void {
    const dimensionsLength = dimensions?.length ?? 0;
    if (this.arenaLength + dimensionsLength + fields.length > MAX_ARENA_BYTES) {
      // Rare (fields of several tags for one key, many times over): the entry keeps its old fields.
      return;
    }
    const start = dimensions ? this.append(dimensions, 0, dimensionsLength) : this.arenaLength;
    const fieldsStart = this.append(fields, 0, fields.length);
    this.fields[e] = this.arena.subarray(fieldsStart, fieldsStart + fields.length);
    this.dimensionsAndFields[e] = dimensions ? this.arena.subarray(start, fieldsStart + fields.length) : undefined;
    this.fieldsTag[e] = attributesTag;
  }

  private clear(): void {
    this.slots.fill(0);
    this.size = 0;
    this.arenaLength = 0;
    this.resources.length = 0;
    this.fields.length = 0;
    this.dimensionsAndFields.length = 0;
  }

  private append(src: Uint8Array, start: number, end: number): number {
    const at = this.arenaLength;
    const need = at + end - start;
    if (need > this.arena.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.arena.length));
      const old = this.arena;
      old.copy(grown, 0, 0, at);
      this.arena = grown;
      this.arenaView = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
      // The views follow the arena, so that the old one is not kept alive by them.
      const follow = (f: Uint8Array | undefined) => (f ? grown.subarray(f.byteOffset - old.byteOffset, f.byteOffset - old.byteOffset + f.length) : undefined);
      for (let e = 0; e < this.fields.length; e++) this.fields[e] = follow(this.fields[e]);
      for (let e = 0; e < this.dimensionsAndFields.length; e++) this.dimensionsAndFields[e] = follow(this.dimensionsAndFields[e]);
    }
    this.arena.set(src.subarray(start, end), at);
    this.arenaLength = need;
    return at;
  }

  private insert(e: number): void {
    const mask = this.slots.length - 1;
    let slot = this.hashes[e]! & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = e + 1;
  }

  private growSlots(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let e = 0; e < this.size - 1; e++) this.insert(e);
  }

  private growEntries(): void {
    const n = this.hashes.length * 2;
    const grow = (a: Int32Array, per = 1): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(n * per);
      b.set(a);
      return b;
    };
    this.hashes = grow(this.hashes);
    this.bounds = grow(this.bounds, 2);
    this.namespaceLengths = grow(this.namespaceLengths);
    this.fieldsTag = grow(this.fieldsTag);
    this.tallyOf = grow(this.tallyOf);
  }
}

/** True when the arena's key at `keyStart` (its length already checked) is [nsStart, nsEnd) then [dStart, dEnd) of `buf`. */
function keyMatches(arena: DataView, keyStart: number, buf: Uint8Array, nsStart: number, nsEnd: number, dStart: number, dEnd: number): boolean {
  const input = viewOf(buf);
  const k = rangeMatches(arena, keyStart, input, buf, nsStart, nsEnd);
  return k >= 0 && rangeMatches(arena, k, input, buf, dStart, dEnd) >= 0;
}

/** Compares [start, end) of `input` with the arena from `at`, four bytes at a time: where the arena's next byte is, or -1. */
function rangeMatches(arena: DataView, at: number, input: DataView, buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let k = at;
  for (; i + 4 <= end; i += 4, k += 4) if (input.getInt32(i, true) !== arena.getInt32(k, true)) return -1;
  for (; i < end; i++, k++) if (buf[i] !== arena.getUint8(k)) return -1;
  return k;
}

/**
 * The hash of a lookup key, the bytes [aStart, aEnd) then [bStart, bEnd) of `buf`: FNV-1a's multiply, a word
 * of four bytes at a time rather than a byte (~40 % less time on the 60-100 bytes of a Namespace and its
 * Dimensions), then MurmurHash3's finaliser, so that every input bit reaches the low bits that pick a slot.
 * Cut to 30 bits: a small integer, which V8 keeps unboxed.
 */
export function lookupKeyHash(buf: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const view = viewOf(buf);
  let h = mixRange(view, buf, 0x811c9dc5 | 0, aStart, aEnd);
  h = mixRange(view, buf, Math.imul(h ^ (aEnd - aStart), 0x01000193), bStart, bEnd);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

function mixRange(view: DataView, buf: Uint8Array, h: number, start: number, end: number): number {
  let i = start;
  for (; i + 4 <= end; i += 4) h = Math.imul(h ^ view.getInt32(i, true), 0x01000193);
  for (; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h;
}

const lookupCaches = new WeakMap<ScopeIndex, LookupCache>();

/** The lookups already made in one scope's snapshot. */
export function lookupCacheOf(scope: ScopeIndex): LookupCache {
  let cache = lookupCaches.get(scope);
  if (!cache) lookupCaches.set(scope, (cache = new LookupCache()));
  return cache;
}
