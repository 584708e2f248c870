import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/helpers/summary-reporter.ts';

/**
 * Tests that measure timing under load (connection floods, slow uploads, memory pressure, backend outages, the
 * three-process fleet) run last, one file at a time: on two cores, running them beside the other files made their
 * timing, not the service, decide the outcome.
 */
const UNDER_LOAD = [
  'test/integration/connection-flood.test.ts',
  'test/integration/overload.test.ts',
  'test/integration/slow-uploads.test.ts',
  'test/integration/memory-budget.test.ts',
  'test/integration/outage.test.ts',
  'test/integration/fleet.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['./test/setup/debian-packages.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', new SummaryReporter()],
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: UNDER_LOAD } },
      { extends: true, test: { name: 'under-load', include: UNDER_LOAD, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
