/** Queries on the chunks and replicas tables shared by the chunk modules. */
import type { Reader, Tx } from '../db/engine.js';

export interface ChunkRow {
  [k: string]: number;
  chunk_id: number;
  idx: number;
  version: number;
}

export function chunkAt(db: Reader | Tx, ino: number, idx: number): Promise<ChunkRow | undefined> {
  return db.get<ChunkRow>('SELECT chunk_id, idx, version FROM chunks WHERE ino = ? AND idx = ?', [ino, idx]);
}

/** Servers holding the chunk at exactly `version`. */
export async function serversWithVersion(db: Reader | Tx, chunkId: number, version: number): Promise<number[]> {
  const rows = await db.all<{ server_id: number }>('SELECT server_id FROM replicas WHERE chunk_id = ? AND version = ?', [chunkId, version]);
  return rows.map((r) => r.server_id);
}

export async function bumpCounter(tx: Tx, name: string, delta: number): Promise<void> {
  await tx.run('UPDATE counters SET value = value + ? WHERE name = ?', [delta, name]);
}
