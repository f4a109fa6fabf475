/**
 * Applies what chunkservers report about the chunks they hold. A full report (sent on every new
 * heartbeat stream) is mark-and-sweep: each reported replica is stamped with the report's
 * generation, and at the end the server's replicas not stamped are forgotten. Deltas add, update or
 * remove single replicas.
 *
 * - A chunk the master does not know is an orphan. Only orphans this master knows it deleted are
 *   deleted at once: ids below the `next_chunk_id` counter were issued by this metadata, so their
 *   file is gone (or their creation failed), unless a metadata rebuild adopted them
 *   (chunks/issued-ids.ts; those of deleted files still waiting for garbage collection are deleted
 *   too). An id at or above the counter was never issued by this
 *   metadata: the metadata may have been restored from an older backup, and that copy may be the
 *   only one of a file written since. Such chunks are recorded in `foreign_chunks`, kept, and
 *   reported (`unissued`, logged by the caller) for an operator: `fstadmin fsck` lists them as
 *   orphans and `fsck --repair` deletes them. The counter does not move for them (a report may
 *   come from anyone holding a chunkserver credential, and an id near 2^53 would use up the id
 *   space): allocation skips the ids recorded there instead (chunks/create-chunk.ts), so a new
 *   chunk never takes over old bytes.
 * - An older version than the master's is recorded as is: the replica is stale and is never
 *   handed to clients; re-replication (chunks/replication.ts) deletes it from its server once a
 *   current replica is live, and copies the chunk if it is below its goal.
 * - A newer version up to the chunk's `version_ceiling` (recorded before every move is sent) means
 *   the master died between bumping replicas and recording it: adopt it. A version beyond the
 *   ceiling was never issued (a confused or hostile chunkserver): set aside, never adopted, since
 *   adopting it would make every real replica stale; reported (`beyond`) for the log. Except
 *   after a restore from a backup (`adoptNewer`, backup/restore-state.ts): the master that issued
 *   it ran after the backup, and its newest version is the file's data.
 */
import type { MasterDb } from '../db/database.js';
import type { Tx } from '../db/engine.js';
import { issuedHere, readIdCounters, type IdCounters } from '../chunks/issued-ids.js';

export interface ReportedChunk {
  chunkId: number;
  version: number;
}

/** What a page of reported chunks leaves to the caller. */
export interface ReportOutcome {
  /** Unknown chunks this metadata issued (see issued-ids.ts): the server should delete them. */
  orphans: number[];
  /** Unknown chunks this metadata never issued: kept, for fsck and metadata rebuild. */
  unissued: number[];
  /** Chunks reported at a version the master never issued: set aside. */
  beyond: number[];
}

/** An unknown chunk this metadata issued, or one a rebuild adopted whose file was deleted since. */
async function isOrphan(tx: Tx, chunkId: number, ids: IdCounters): Promise<boolean> {
  if (issuedHere(chunkId, ids)) return true;
  return chunkId < ids.next && !!(await tx.get('SELECT 1 AS x FROM deleted_chunks WHERE chunk_id = ?', [chunkId]));
}

async function applyOne(tx: Tx, serverId: number, c: ReportedChunk, gen: number, ids: IdCounters, out: ReportOutcome, adoptNewer: boolean): Promise<void> {
  const row = await tx.get<{ version: number; version_ceiling: number }>('SELECT version, version_ceiling FROM chunks WHERE chunk_id = ?', [c.chunkId]);
  if (!row) {
    const known = await tx.get('SELECT 1 AS x FROM foreign_chunks WHERE chunk_id = ?', [c.chunkId]);
    if (!known && await isOrphan(tx, c.chunkId, ids)) {
      out.orphans.push(c.chunkId);
      return;
    }
    if (!known) {
      // Never issued here: remember it, and never issue its id (a new chunk created over a copy
      // that some server keeps at the same version would take over its old bytes).
      await tx.run('INSERT INTO foreign_chunks (chunk_id, first_seen_ms) VALUES (?, ?)', [c.chunkId, Date.now()]);
    }
    out.unissued.push(c.chunkId);
    return;
  }
  if (c.version > Math.max(row.version, row.version_ceiling)) {
    if (!adoptNewer) {
      out.beyond.push(c.chunkId);
      return;
    }
    await tx.run('UPDATE chunks SET version_ceiling = ? WHERE chunk_id = ?', [c.version, c.chunkId]);
  }
  if (c.version > row.version) await tx.run('UPDATE chunks SET version = ? WHERE chunk_id = ?', [c.version, c.chunkId]);
  await tx.run(
    `INSERT INTO replicas (chunk_id, server_id, version, seen_gen) VALUES (?, ?, ?, ?)
     ON CONFLICT (chunk_id, server_id) DO UPDATE SET version = excluded.version, seen_gen = excluded.seen_gen`,
    [c.chunkId, serverId, c.version, gen],
  );
}

/** Applies a page of reported chunks; returns the unknown ones, split by what to do with them. */
export function applyChunkReport(db: MasterDb, serverId: number, chunks: ReportedChunk[], gen: number, adoptNewer = false): Promise<ReportOutcome> {
  if (chunks.length === 0) return Promise.resolve({ orphans: [], unissued: [], beyond: [] });
  return db.write(async (tx) => {
    const ids = await readIdCounters(tx);
    const out: ReportOutcome = { orphans: [], unissued: [], beyond: [] };
    for (const c of chunks) await applyOne(tx, serverId, c, gen, ids, out, adoptNewer);
    return out;
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
