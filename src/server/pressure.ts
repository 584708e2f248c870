import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** How often the event loop delay and memory are sampled. */
const SAMPLE_INTERVAL_MS = 1000;
/** The delay histogram's resolution, taken off its mean (a timer of this period never runs early). */
const RESOLUTION_MS = 10;

export interface PressureSample {
  /** Mean event loop delay of the last interval; Infinity when the loop was blocked through all of it. */
  readonly eventLoopDelay: number;
  readonly heapUsedBytes: number;
  /** The last resident set size read; kept while reading it fails. */
  readonly rssBytes: number;
}

export interface PressureSampler {
  current(): PressureSample;
  stop(): void;
}

/**
 * Samples the event loop delay and memory once a second, the way @fastify/under-pressure did, except that a
 * failing read never escapes: process.memoryUsage() reads /proc/self/stat (uv_resident_set_memory), which
 * throws EMFILE when the file limit is reached, and under-pressure's timer let that reach uncaughtException,
 * which shuts the service down. On a failure the heap comes from V8 (no file needed), the resident set keeps
 * its last value, and `onError` is told. The timer is unref'ed and re-armed, so it never overlaps itself
 * nor keeps the process alive.
 */
export function startPressureSampler(onError: (err: unknown) => void): PressureSampler {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let sample: PressureSample = { eventLoopDelay: 0, heapUsedBytes: 0, rssBytes: 0 };
  const update = (): void => {
    let delay = Math.max(0, histogram.mean / 1e6 - RESOLUTION_MS);
    if (Number.isNaN(delay)) delay = Infinity;
    histogram.reset();
    try {
      const memory = process.memoryUsage();
      sample = { eventLoopDelay: delay, heapUsedBytes: memory.heapUsed, rssBytes: memory.rss };
    } catch (err) {
      sample = { eventLoopDelay: delay, heapUsedBytes: getHeapStatistics().used_heap_size, rssBytes: sample.rssBytes };
      onError(err);
    }
  };
  const timer = setTimeout(function tick() {
    try {
      update();
    } catch (err) {
      onError(err);
    }
    timer.refresh();
  }, SAMPLE_INTERVAL_MS);
  timer.unref();
  return {
    current: () => sample,
    stop: () => {
      clearTimeout(timer);
      histogram.disable();
    },
  };
}
