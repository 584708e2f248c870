import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/helpers/summary-reporter.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/setup/debian-packages.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', new SummaryReporter()],
  },
});
