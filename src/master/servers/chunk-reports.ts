/**
 * Applies what chunkservers report about the chunks they hold. A full report (sent on every new
 * heartbeat stream) is mark-and-sweep: each reported replica is stamped with the report's
 * generation, and at the end the server's replicas not stamped are forgotten. Deltas add, update or
 * remove single replicas.
 *
 * - A chunk the master does not know (deleted, or never committed) is an orphan: the server is
 *   told to delete it.
 * - An older version than the master's is recorded as is: the replica is stale and is never
 *   handed to clients; re-replication (chunks/replication.ts) deletes it from its server once a
 *   current replica is live, and copies the chunk if it is below its goal.
 * - A newer version means the master died between bumping replicas and recording it: adopt it.
 */
import type { MasterDb } from '../db/database.js';
import type { Tx } from '../db/sqlite.js';

export interface ReportedChunk {
  chunkId: number;
  version: number;
}

async function applyOne(tx: Tx, serverId: number, c: ReportedChunk, gen: number, orphans: number[]): Promise<void> {
  const row = await tx.get<{ version: number }>('SELECT version FROM chunks WHERE chunk_id = ?', [c.chunkId]);
  if (!row) {
    orphans.push(c.chunkId);
    return;
  }
  if (c.version > row.version) await tx.run('UPDATE chunks SET version = ? WHERE chunk_id = ?', [c.version, c.chunkId]);
  await tx.run(
    `INSERT INTO replicas (chunk_id, server_id, version, seen_gen) VALUES (?, ?, ?, ?)
     ON CONFLICT (chunk_id, server_id) DO UPDATE SET version = excluded.version, seen_gen = excluded.seen_gen`,
    [c.chunkId, serverId, c.version, gen],
  );
}

/** Applies a page of reported chunks; returns the orphans the server should delete. */
export function applyChunkReport(db: MasterDb, serverId: number, chunks: ReportedChunk[], gen: number): Promise<number[]> {
  if (chunks.length === 0) return Promise.resolve([]);
  return db.write(async (tx) => {
    const orphans: number[] = [];
    for (const c of chunks) await applyOne(tx, serverId, c, gen, orphans);
    return orphans;
  });
}

/** Ends a full report: replicas of this server that the report did not mention are gone. */
export function sweepUnreported(db: MasterDb, serverId: number, gen: number): Promise<number> {
  return db.write(async (tx) => (await tx.run('DELETE FROM replicas WHERE server_id = ? AND seen_gen != ?', [serverId, gen])).changes);
}

export function applyRemoved(db: MasterDb, serverId: number, removed: number[]): Promise<void> {
  if (removed.length === 0) return Promise.resolve();
  return db.write(async (tx) => {
    for (const id of removed) await tx.run('DELETE FROM replicas WHERE chunk_id = ? AND server_id = ?', [id, serverId]);
  });
}
