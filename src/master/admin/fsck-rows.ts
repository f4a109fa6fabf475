/**
 * The SQL of fsck: the chunks of live files with their inode's goal and size, their lease and
 * their replica rows, a bounded batch at a time in chunk-id order (the unique index on
 * chunks.chunk_id; inodes, leases and replicas by primary key), or by id for a second look; and
 * what is known of chunk ids without a chunk row.
 */
import type { Reader } from '../db/sqlite.js';
import type { RecordedChunk } from './fsck-compare.js';

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

/** Ids per IN (...) list: far below SQLite's limit on parameters. */
const IN_LIST = 500;

const COLUMNS = `c.chunk_id, c.ino, c.idx, c.version, i.replication AS goal, i.size AS size,
  l.expires_ms AS lease_expires, r.server_id, r.version AS replica_version`;
const JOINS = `LEFT JOIN inodes i ON i.ino = c.ino
  LEFT JOIN leases l ON l.chunk_id = c.chunk_id
  LEFT JOIN replicas r ON r.chunk_id = c.chunk_id`;

function group(rows: JoinedRow[], now: number): RecordedChunk[] {
  const byId = new Map<number, RecordedChunk>();
  for (const r of rows) {
    let c = byId.get(r.chunk_id);
    if (!c) {
      c = {
        chunkId: r.chunk_id, ino: r.ino, idx: r.idx, version: r.version, goal: r.goal ?? undefined, fileSize: r.size ?? 0,
        leased: (r.lease_expires ?? 0) > now, replicas: [],
      };
      byId.set(r.chunk_id, c);
    }
    if (r.server_id !== null && r.replica_version !== null) c.replicas.push({ serverId: r.server_id, version: r.replica_version });
  }
  return [...byId.values()];
}

export interface RecordedBatch {
  chunks: RecordedChunk[];
  /** Cursor for the next batch; undefined when this was the last one. */
  next: number | undefined;
}

/** Up to `limit` chunks with ids above `after`. */
export async function scanRecorded(db: Reader, after: number, limit: number, now: number): Promise<RecordedBatch> {
  const rows = await db.all<JoinedRow>(
    `SELECT ${COLUMNS}
     FROM (SELECT chunk_id, ino, idx, version FROM chunks WHERE chunk_id > ? ORDER BY chunk_id LIMIT ?) c
     ${JOINS}`,
    [after, limit],
  );
  const chunks = group(rows, now);
  // Left joins only: every chunk of the inner batch yields a row, so a short batch is the last.
  const last = chunks.reduce((m, c) => Math.max(m, c.chunkId), after);
  return { chunks, next: chunks.length < limit ? undefined : last };
}

function* slices(ids: readonly number[]): Generator<number[]> {
  for (let i = 0; i < ids.length; i += IN_LIST) yield ids.slice(i, i + IN_LIST);
}

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(',');

/** The chunks among `ids` that have a chunk row now (the others are absent from the map). */
export async function loadRecorded(db: Reader, ids: readonly number[], now: number): Promise<Map<number, RecordedChunk>> {
  const out = new Map<number, RecordedChunk>();
  for (const part of slices(ids)) {
    const rows = await db.all<JoinedRow>(
      `SELECT ${COLUMNS} FROM (SELECT chunk_id, ino, idx, version FROM chunks WHERE chunk_id IN (${marks(part.length)})) c ${JOINS}`,
      part,
    );
    for (const c of group(rows, now)) out.set(c.chunkId, c);
  }
  return out;
}

/** The chunks among `ids` whose file was deleted and whose replicas garbage collection still deletes. */
export async function pendingGc(db: Reader, ids: readonly number[]): Promise<Set<number>> {
  const out = new Set<number>();
  for (const part of slices(ids)) {
    const rows = await db.all<{ chunk_id: number }>(`SELECT chunk_id FROM deleted_chunks WHERE chunk_id IN (${marks(part.length)})`, part);
    for (const r of rows) out.add(r.chunk_id);
  }
  return out;
}

/** The chunks among `ids` that servers reported and this metadata never issued. */
export async function foreignChunks(db: Reader, ids: readonly number[]): Promise<Set<number>> {
  const out = new Set<number>();
  for (const part of slices(ids)) {
    const rows = await db.all<{ chunk_id: number }>(`SELECT chunk_id FROM foreign_chunks WHERE chunk_id IN (${marks(part.length)})`, part);
    for (const r of rows) out.add(r.chunk_id);
  }
  return out;
}

/** The next chunk id this metadata will issue: every id below it was issued by it. */
export async function nextChunkId(db: Reader): Promise<number> {
  return (await db.get<{ value: number }>("SELECT value FROM counters WHERE name = 'next_chunk_id'"))?.value ?? 0;
}
