import { parseArgs } from 'node:util';

/** The bench's flags (see run.ts), parsed once. */
export const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    compression: { type: 'string', default: 'none' },
    only: { type: 'string' },
    'attributes-on': { type: 'string', default: 'datapoint' },
    'decode-threads': { type: 'string' },
    // With a real redis-server as the state store (FIRETAP_STATE_URL): what the shared ledger costs.
    state: { type: 'boolean', default: false },
    // Service processes on this machine, requests spread round-robin (with --state, one fleet sharing the store).
    processes: { type: 'string', default: '1' },
  },
});
export const durationMs = Number(args.duration) * 1000;
export const concurrency = Number(args.concurrency);

export const MiB = 1024 * 1024;
