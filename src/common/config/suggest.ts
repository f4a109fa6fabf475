/** "did you mean ...?" for a mistyped config key: the closest known name, if it is close enough. */

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The known name nearest `name`: one it is a prefix of (`scrub-rate` -> `scrub-rate-mib`), else
 * one at most a third of it away in edits (typos, not other words); undefined when none is close.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const normalized = name.toLowerCase().replace(/_/g, '-');
  if (normalized.length >= 3) {
    const extended = known.find((k) => k.startsWith(normalized));
    if (extended !== undefined) return extended;
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(normalized, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}
