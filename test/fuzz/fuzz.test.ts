import { describe, expect, it } from 'vitest';
import { TARGETS, fuzz } from './targets.ts';

// The short, seeded form; `npm run soak` runs the long form (a million inputs) with figures.
describe('fuzzing (seeded, short form)', () => {
  it.each(TARGETS)('the $name decoder accepts or refuses every mutated and random input, within the time bound', async (target) => {
    const figures = await fuzz(target, 3000, 20261122);
    expect(figures.inputs).toBe(3000);
    expect(figures.refused).toBeGreaterThan(0);
  });
});
