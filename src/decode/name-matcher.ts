/** Escapes the characters a RegExp reads specially, but `*` (a name pattern's wildcard). */
export const escapeRegExp = (text: string) => text.replace(/[.+?^$()|[\]\\]/g, '\\$&');

export interface NameMatcher {
  matches(name: string): boolean;
}

/** Exact log group names, or names with `*` standing for any run of characters. */
export function nameMatcher(patterns: readonly string[]): NameMatcher {
  if (patterns.length === 0) return { matches: () => false };
  const re = new RegExp(`^(?:${patterns.map((p) => p.split('*').map(escapeRegExp).join('.*')).join('|')})$`);
  return { matches: (name) => re.test(name) };
}
