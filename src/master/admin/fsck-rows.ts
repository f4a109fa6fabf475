/**
 * The SQL fsck adds to the chunk map's shared reader (chunks/replication-rows.ts: scanChunks,
 * loadChunks, chunkIdsIn): the next chunk id this metadata will issue.
 */
import type { Reader } from '../db/engine.js';

/** The next chunk id this metadata will issue: every id below it was issued by it. */
export async function nextChunkId(db: Reader): Promise<number> {
  return (await db.get<{ value: number }>("SELECT value FROM counters WHERE name = 'next_chunk_id'"))?.value ?? 0;
}
