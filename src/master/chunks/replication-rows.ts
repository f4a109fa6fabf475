/**
 * The SQL of the chunk map's maintenance (re-replication, trimming, rebalance, fsck). The scan walks the chunks of live files in chunk-id order, a bounded
 * batch at a time, through the unique index on chunks.chunk_id; each chunk's goal comes from its
 * inode (primary key), its replicas from replicas (primary key prefix chunk_id) and its lease from
 * leases (primary key). Deleted files' chunks live in deleted_chunks, which gc.ts handles.
 */
import type { MasterDb } from '../db/database.js';
import type { Reader } from '../db/engine.js';
import type { ChunkState } from './replication-plan.js';

interface JoinedRow {
  [k: string]: number | null;
  chunk_id: number;
  ino: number;
  idx: number;
  version: number;
  goal: number | null;
  size: number | null;
  lease_expires: number | null;
  server_id: number | null;
  replica_version: number | null;
}

const COLUMNS = `c.chunk_id, c.ino, c.idx, c.version, i.replication AS goal, i.size AS size,
  l.expires_ms AS lease_expires, r.server_id, r.version AS replica_version`;
const JOINS = `LEFT JOIN inodes i ON i.ino = c.ino
  LEFT JOIN leases l ON l.chunk_id = c.chunk_id
  LEFT JOIN replicas r ON r.chunk_id = c.chunk_id`;

/** Groups joined rows into chunk states (in the order each chunk first appears). */
function group(rows: JoinedRow[], now: number): ChunkState[] {
  const byId = new Map<number, ChunkState>();
  for (const r of rows) {
    let c = byId.get(r.chunk_id);
    if (!c) {
      // A chunk without an inode row cannot happen in a consistent database; goal 0 ignores it.
      c = {
        chunkId: r.chunk_id, ino: r.ino, idx: r.idx, version: r.version, goal: r.goal ?? 0, fileSize: r.size ?? 0,
        leased: (r.lease_expires ?? 0) > now, replicas: [],
      };
      byId.set(r.chunk_id, c);
    }
    if (r.server_id !== null && r.replica_version !== null) c.replicas.push({ serverId: r.server_id, version: r.replica_version });
  }
  return [...byId.values()];
}

export interface ScanBatch {
  chunks: ChunkState[];
  /** Cursor for the next batch; undefined when this was the last one. */
  next: number | undefined;
}

/** Up to `limit` chunks with ids above `after`. */
export async function scanChunks(db: Reader, after: number, limit: number, now: number): Promise<ScanBatch> {
  const rows = await db.all<JoinedRow>(
    `SELECT ${COLUMNS}
     FROM (SELECT chunk_id, ino, idx, version FROM chunks WHERE chunk_id > ? ORDER BY chunk_id LIMIT ?) c
     ${JOINS}`,
    [after, limit],
  );
  const chunks = group(rows, now);
  // Every chunk of the inner batch yields at least one row (left joins only), so a short batch is
  // the last one. No outer ORDER BY (it would sort every batch): the cursor is the largest id.
  const last = chunks.reduce((m, c) => Math.max(m, c.chunkId), after);
  return { chunks, next: chunks.length < limit ? undefined : last };
}

/** One chunk as it stands now (work found by a scan may be minutes old when its turn comes). */
export async function loadChunk(db: Reader, chunkId: number, now: number): Promise<ChunkState | undefined> {
  return (await loadChunks(db, [chunkId], now)).get(chunkId);
}

/** Ids per IN (...) list: far below SQLite's limit on parameters. */
const IN_LIST = 500;

function* slices(ids: readonly number[]): Generator<number[]> {
  for (let i = 0; i < ids.length; i += IN_LIST) yield ids.slice(i, i + IN_LIST);
}

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(',');

/** The chunks among `ids` that have a chunk row now (the others are absent from the map). */
export async function loadChunks(db: Reader, ids: readonly number[], now: number): Promise<Map<number, ChunkState>> {
  const out = new Map<number, ChunkState>();
  for (const part of slices(ids)) {
    const rows = await db.all<JoinedRow>(
      `SELECT ${COLUMNS} FROM (SELECT chunk_id, ino, idx, version FROM chunks WHERE chunk_id IN (${marks(part.length)})) c ${JOINS}`,
      part,
    );
    for (const c of group(rows, now)) out.set(c.chunkId, c);
  }
  return out;
}

/** The ids among `ids` that have a row in `table` (chunks, deleted_chunks, foreign_chunks: each has chunk_id unique). */
export async function chunkIdsIn(db: Reader, table: 'chunks' | 'deleted_chunks' | 'foreign_chunks', ids: readonly number[]): Promise<Set<number>> {
  const out = new Set<number>();
  for (const part of slices(ids)) {
    const rows = await db.all<{ chunk_id: number }>(`SELECT chunk_id FROM ${table} WHERE chunk_id IN (${marks(part.length)})`, part);
    for (const r of rows) out.add(r.chunk_id);
  }
  return out;
}

/**
 * Records a copy made at `version`, unless the chunk has moved on (or gone) meanwhile: then the
 * copy is a stale replica (or an orphan) that the server's own report brings in and that is
 * cleaned like any other. Returns whether it was recorded.
 */
export function recordCopy(db: MasterDb, chunkId: number, serverId: number, version: number): Promise<boolean> {
  return db.write(async (tx) => {
    const chunk = await tx.get<{ version: number }>('SELECT version FROM chunks WHERE chunk_id = ?', [chunkId]);
    if (chunk?.version !== version) return false;
    // seen_gen is left alone: the server's next report stamps it.
    await tx.run(
      `INSERT INTO replicas (chunk_id, server_id, version) VALUES (?, ?, ?)
       ON CONFLICT (chunk_id, server_id) DO UPDATE SET version = excluded.version`,
      [chunkId, serverId, version],
    );
    return true;
  });
}

/** Forgets a stale replica deleted from its server (unless a report changed the row meanwhile). */
export async function forgetReplica(db: MasterDb, chunkId: number, serverId: number, version: number): Promise<void> {
  await db.write((tx) => tx.run('DELETE FROM replicas WHERE chunk_id = ? AND server_id = ? AND version = ?', [chunkId, serverId, version]));
}
