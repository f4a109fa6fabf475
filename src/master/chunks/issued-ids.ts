/**
 * Which chunk ids this metadata issued itself. It issues ids from the `next_chunk_id` counter up;
 * a metadata rebuild (admin/rebuild.ts) adopts ids some earlier metadata issued and moves the
 * counter past them, recording where the adopted range ends as `adopted_below`. An id in
 * [adopted_below, next_chunk_id) was issued here: unknown, its file is gone and a copy of it may be
 * deleted. Any other unknown id (at or above the counter, or below adopted_below: a chunkserver
 * that was away during the rebuild) was never issued here: it is kept for fsck and the next rebuild.
 */
import type { Reader, Tx } from '../db/sqlite.js';

export interface IdCounters {
  /** The next id this metadata issues. */
  next: number;
  /** Ids below this were adopted by a rebuild, not issued here (0: never rebuilt). */
  adoptedBelow: number;
}

export async function readIdCounters(q: Reader | Tx): Promise<IdCounters> {
  const rows = await q.all<{ name: string; value: number }>("SELECT name, value FROM counters WHERE name IN ('next_chunk_id', 'adopted_below')");
  const of = (name: string): number => rows.find((r) => r.name === name)?.value ?? 0;
  // No counter row cannot happen in a consistent database; then nothing counts as issued.
  return { next: of('next_chunk_id'), adoptedBelow: of('adopted_below') };
}

/** Whether this metadata issued `chunkId` itself (see above). */
export function issuedHere(chunkId: number, c: IdCounters): boolean {
  return chunkId >= c.adoptedBelow && chunkId < c.next;
}
