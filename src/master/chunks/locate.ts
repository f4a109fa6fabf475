/**
 * LocateChunks: the chunks of a byte range with their live, up-to-date replicas. Stale replicas
 * (an older version) and replicas on dead servers are never handed out.
 */
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import { getInode } from '../tree/inode-row.js';
import { inlineData } from '../tree/inline-data.js';
import { locationOf, type ChunkDeps } from './chunk-deps.js';

/** At most this many chunks per answer (4 GiB); clients ask again for the rest. */
const MAX_CHUNKS_PER_ANSWER = 64;

export async function locateChunks(deps: ChunkDeps, ino: number, offset: number, length: number): Promise<fst.ILocateChunksResponse> {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new FsError('EINVAL', `invalid range offset=${offset} length=${length}`);
  }
  const inode = await getInode(deps.db.reader, ino);
  if (inode.type !== 1) throw new FsError(inode.type === 2 ? 'EISDIR' : 'EINVAL', `inode ${ino} is not a regular file`);
  // A small file's bytes are in the metadata: the answer carries them all, whatever the range.
  const inline = await inlineData(deps.db.reader, ino);
  if (inline) return { size: inode.size, chunks: [], inlineData: inline, inline: true };
  const end = Math.min(inode.size, offset + length);
  if (end <= offset) return { size: inode.size, chunks: [] };
  const first = Math.floor(offset / CHUNK_SIZE);
  const last = Math.min(Math.floor((end - 1) / CHUNK_SIZE), first + MAX_CHUNKS_PER_ANSWER - 1);
  // Replicas by server id: locationOf keeps that order among equal loads, the same on every
  // engine (SQLite's rows come in primary-key order, PostgreSQL's in whatever order they lie).
  const rows = await deps.db.reader.all<{ idx: number; chunk_id: number; version: number; server_id: number | null }>(
    `SELECT c.idx, c.chunk_id, c.version, r.server_id FROM chunks c
     LEFT JOIN replicas r ON r.chunk_id = c.chunk_id AND r.version = c.version
     WHERE c.ino = ? AND c.idx BETWEEN ? AND ? ORDER BY c.idx, r.server_id`,
    [ino, first, last],
  );
  const byIdx = new Map<number, { chunkId: number; version: number; servers: number[] }>();
  for (const r of rows) {
    let e = byIdx.get(r.idx);
    if (!e) byIdx.set(r.idx, (e = { chunkId: r.chunk_id, version: r.version, servers: [] }));
    if (r.server_id !== null && deps.servers.isAlive(r.server_id)) e.servers.push(r.server_id);
  }
  const chunks = [...byIdx.entries()].map(([idx, e]) => locationOf(deps, idx, e.chunkId, e.version, e.servers));
  if (deps.servers.settling() && chunks.some((c) => c.replicas?.length === 0)) {
    throw new FsError('EAGAIN', `inode ${ino}: chunkservers holding its chunks have not reconnected since the master started`);
  }
  return { size: inode.size, chunks };
}
