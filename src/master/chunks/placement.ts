/**
 * Where new replicas go: distinct chunkservers, preferring more free space (as a fraction of
 * capacity, so that small and large disks fill evenly) and less load. Pure, unit-tested.
 */
import { CHUNK_SIZE } from '../../common/ids.js';

export interface PlacementCandidate {
  id: number;
  capacity: number;
  free: number;
  load: number;
}

export interface PlacementResult {
  chosen: number[];
  /** Live servers skipped because they have no room for a chunk. */
  full: number;
}

/** Picks up to `count` servers, never one in `exclude` and never one without room for a chunk. */
export function chooseServers(
  candidates: PlacementCandidate[],
  count: number,
  exclude: ReadonlySet<number> = new Set(),
  random: () => number = Math.random,
): PlacementResult {
  const eligible = candidates.filter((c) => !exclude.has(c.id));
  const withRoom = eligible.filter((c) => c.free >= CHUNK_SIZE);
  // A little jitter spreads chunks over servers whose scores are (nearly) equal instead of always
  // choosing the same ones until their free space drops.
  const scored = withRoom.map((c) => ({ c, s: (c.capacity > 0 ? c.free / c.capacity : 0) - 0.02 * c.load + 0.01 * random() }));
  const ranked = scored.sort((a, b) => b.s - a.s || a.c.id - b.c.id).map((x) => x.c);
  return { chosen: ranked.slice(0, Math.max(0, count)).map((c) => c.id), full: eligible.length - withRoom.length };
}
