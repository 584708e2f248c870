import { ENV } from './load.ts';

/** Read outside the ENV table. */
const OTHER_SETTINGS = ['FIRETAP_CONFIG'];

export interface UnknownSetting {
  readonly name: string;
  /** The known setting it most likely meant, if one is close. */
  readonly didYouMean: string | undefined;
}

/**
 * FIRETAP_* variables that firetap does not read: each is a setting the user believes is in force. Named at
 * start with the closest known name (`FIRETAP_PORT` → `PORT`), never silently ignored.
 */
export function unknownSettings(env: Readonly<Record<string, string | undefined>>): UnknownSetting[] {
  const known = [...ENV.map(([name]) => name), ...OTHER_SETTINGS];
  const knownSet = new Set(known);
  return Object.keys(env)
    .filter((name) => name.startsWith('FIRETAP_') && !knownSet.has(name))
    .sort()
    .map((name) => ({ name, didYouMean: closest(name, known, knownSet) }));
}

function closest(name: string, known: readonly string[], knownSet: ReadonlySet<string>): string | undefined {
  const bare = name.slice('FIRETAP_'.length);
  if (knownSet.has(bare)) return bare;
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(name.length / 4)) + 1;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length]!;
}
