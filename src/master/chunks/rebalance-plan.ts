/**
 * The arithmetic of rebalancing (pure, unit-tested): how far each server's use is from the mean,
 * whether the cluster is balanced, which pair of servers a move should go between, and whether a
 * chunk of a given size helps.
 *
 * Use is the fraction of a server's capacity that its chunks take (used / capacity), so that a
 * large disk holds more than a small one; the mean is the cluster's (Σ used / Σ capacity). The
 * cluster is balanced when every server's use is within `threshold` × mean of the mean.
 */

export interface ServerLoad {
  id: number;
  capacity: number;
  used: number;
}

const use = (s: ServerLoad): number => (s.capacity > 0 ? s.used / s.capacity : 0);

/** Σ used / Σ capacity over servers with a capacity. */
export function meanUse(servers: readonly ServerLoad[]): number {
  const cap = servers.reduce((a, s) => a + s.capacity, 0);
  return cap > 0 ? servers.reduce((a, s) => a + s.used, 0) / cap : 0;
}

/** Largest |use - mean| / mean (0 for an empty cluster). */
export function maxDeviation(servers: readonly ServerLoad[]): number {
  const mean = meanUse(servers);
  if (mean <= 0) return 0;
  return servers.reduce((m, s) => Math.max(m, Math.abs(use(s) - mean) / mean), 0);
}

export function isBalanced(servers: readonly ServerLoad[], threshold: number): boolean {
  return maxDeviation(servers) <= threshold;
}

/** Bytes above the mean on over-full servers: roughly what is left to move. */
export function bytesToMove(servers: readonly ServerLoad[]): number {
  const mean = meanUse(servers);
  return Math.round(servers.reduce((a, s) => a + Math.max(0, s.used - mean * s.capacity), 0));
}

/**
 * The pairs worth a move, most useful first: from the fullest servers above the band to the
 * emptiest below the mean (and the other way round when only an empty server is out of band).
 * Undefined entries never appear; an empty list means balanced.
 */
export function movePairs(servers: readonly ServerLoad[], threshold: number): { source: number; target: number }[] {
  if (servers.length < 2 || isBalanced(servers, threshold)) return [];
  const mean = meanUse(servers);
  const byUse = [...servers].sort((a, b) => use(b) - use(a) || a.id - b.id);
  const sources = byUse.filter((s) => use(s) > mean);
  const targets = [...byUse].reverse().filter((s) => use(s) < mean);
  const pairs: { source: number; target: number }[] = [];
  for (const s of sources) for (const t of targets) pairs.push({ source: s.id, target: t.id });
  return pairs;
}

/** Whether moving `bytes` from `source` to `target` brings them closer (the target stays below the source). */
export function helps(source: ServerLoad, target: ServerLoad, bytes: number): boolean {
  if (bytes <= 0 || target.capacity <= 0 || source.capacity <= 0) return false;
  return (target.used + bytes) / target.capacity <= (source.used - bytes) / source.capacity + 1e-12;
}

/** Applies a planned move to the estimates. */
export function applyMove(source: ServerLoad, target: ServerLoad, bytes: number): void {
  source.used -= bytes;
  target.used += bytes;
}
