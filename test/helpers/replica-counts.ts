/**
 * What the master's database says about replica counts, read through a connection of the test's
 * own (test/helpers/master-db.ts): per chunk, current-version replicas against the file's goal.
 */
import type { MetaReader } from './master-db.js';

export interface ChunkReplicas {
  chunkId: number;
  goal: number;
  /** Current-version replica rows (every server; tests keep them all alive unless they say so). */
  current: number;
  servers: number[];
}

export async function chunkReplicas(db: MetaReader): Promise<ChunkReplicas[]> {
  const rows = await db.all<{ chunk_id: number; goal: number; server_id: number | null }>(
    `SELECT c.chunk_id, i.replication AS goal, r.server_id FROM chunks c JOIN inodes i ON i.ino = c.ino
     LEFT JOIN replicas r ON r.chunk_id = c.chunk_id AND r.version = c.version ORDER BY c.chunk_id`,
  );
  const byId = new Map<number, ChunkReplicas>();
  for (const r of rows) {
    let c = byId.get(r.chunk_id);
    if (!c) byId.set(r.chunk_id, (c = { chunkId: r.chunk_id, goal: r.goal, current: 0, servers: [] }));
    if (r.server_id !== null) {
      c.current++;
      c.servers.push(r.server_id);
    }
  }
  return [...byId.values()];
}

/** Chunks below their goal (by rows) right now. */
export async function belowGoal(db: MetaReader): Promise<ChunkReplicas[]> {
  return (await chunkReplicas(db)).filter((c) => c.current < c.goal);
}
