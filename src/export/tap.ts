import type { Signal } from '../config/schema.ts';
import { debugLines } from './debug.ts';
import type { ExportRequest, Exporter } from './exporter.ts';

/** Which exports a tap sees: absent fields match everything. */
export interface TapFilter {
  readonly signal?: Signal;
  readonly route?: string;
}

/** Why a tap ended, as its summary line says. */
export type TapEnd = 'limit' | 'seconds' | 'disconnected' | 'shutdown';

/**
 * One connected tap: a bounded queue of debug lines. When it is full, the lines that do not fit are dropped
 * (the rest sampled evenly) and counted, so that a slow reader never holds up an export.
 */
export class Tap {
  readonly filter: TapFilter;
  readonly capacity: number;
  /** Lines dropped since the reader last took them (see takeDropped). */
  private dropped = 0;
  private queue: string[] = [];
  private wake: (() => void) | undefined;
  ended: TapEnd | undefined;
  /** Resolves when the tap ends. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(filter: TapFilter, capacity: number) {
    this.filter = filter;
    this.capacity = capacity;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  wants(request: ExportRequest): boolean {
    const { signal, route } = this.filter;
    return (signal === undefined || signal === request.signal) && (route === undefined || route === request.route);
  }

  get full(): boolean {
    return this.queue.length >= this.capacity;
  }

  /** Counts lines dropped without being decoded (the queue was full). */
  drop(count: number): void {
    this.dropped += count;
    this.notify();
  }

  offer(lines: readonly string[]): void {
    const room = this.capacity - this.queue.length;
    if (lines.length <= room) this.queue.push(...lines);
    else {
      const step = lines.length / room;
      for (let i = 0; i < room; i++) this.queue.push(lines[Math.floor(i * step)]!);
      this.dropped += lines.length - room;
    }
    this.notify();
  }

  /** Up to `max` queued lines, oldest first. */
  take(max: number): string[] {
    return this.queue.length <= max ? this.queue.splice(0) : this.queue.splice(0, max);
  }

  takeDropped(): number {
    const n = this.dropped;
    this.dropped = 0;
    return n;
  }

  end(reason: TapEnd): void {
    this.ended ??= reason;
    this.resolveDone();
    this.notify();
  }

  /** Resolves once there is something to take or the tap ended. */
  ready(): Promise<void> {
    if (this.queue.length > 0 || this.dropped > 0 || this.ended) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** The taps connected at once, and the exporter decorator that feeds them. */
export class TapHub {
  readonly maxTaps: number;
  private readonly taps = new Set<Tap>();

  constructor(maxTaps = 4) {
    this.maxTaps = maxTaps;
  }

  /** A new tap, or undefined when maxTaps are connected already. */
  attach(filter: TapFilter, capacity = 1000): Tap | undefined {
    if (this.taps.size >= this.maxTaps) return undefined;
    const tap = new Tap(filter, capacity);
    this.taps.add(tap);
    return tap;
  }

  detach(tap: Tap): void {
    this.taps.delete(tap);
  }

  /** Ends every tap (the service is shutting down). */
  endAll(): void {
    for (const tap of this.taps) tap.end('shutdown');
  }

  /**
   * Wraps a signal's exporter: with no tap connected an export costs one size check; with one, the payload
   * is turned into debug lines before it is sent (it is lent only until the export settles). Taps whose
   * queue is full count the request's items as dropped without decoding anything.
   */
  wrap(exporter: Exporter): Exporter {
    return {
      export: (request) => {
        if (this.taps.size > 0) this.publish(request);
        return exporter.export(request);
      },
      shutdown: () => exporter.shutdown(),
    };
  }

  private publish(request: ExportRequest): void {
    const wanting: Tap[] = [];
    for (const tap of this.taps) if (tap.wants(request) && !tap.ended) wanting.push(tap);
    if (wanting.length === 0) return;
    if (wanting.every((t) => t.full)) {
      for (const tap of wanting) tap.drop(request.items);
      return;
    }
    let lines: string[];
    try {
      lines = Array.from(debugLines(request), (line) => JSON.stringify(line));
    } catch {
      return; // an undecodable payload is the exporter's to report, not the tap's
    }
    for (const tap of wanting) tap.offer(lines);
  }
}
