/** "Did you mean" for unknown config keys: the closest allowed key, when it is close enough to be a typo. */

/** Levenshtein edit distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** camelCase, kebab-case and case differences do not count: `quietWindow` and `Quiet-Window` → `quiet_window`. */
function fold(key: string): string {
  return key.replace(/[-_\s]/g, "").toLowerCase();
}

export function didYouMean(key: string, allowed: readonly string[]): string | undefined {
  const folded = fold(key);
  const exact = allowed.find((candidate) => fold(candidate) === folded);
  if (exact) return exact;
  // A shortened key (`expected` for `expected_outputs`, `grpc` for `grpc_address`) when only one key fits.
  const extended = allowed.filter((candidate) => folded.length >= 3 && fold(candidate).startsWith(folded));
  if (extended.length === 1) return extended[0];
  let best: { key: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const distance = editDistance(folded, fold(candidate));
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  const tolerated = Math.max(2, Math.floor(folded.length / 3));
  return best && best.distance <= tolerated ? best.key : undefined;
}
