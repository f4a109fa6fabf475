/**
 * The chunkserver side of truncate(2): the chunk holding the new end of file is cut there on its
 * replicas (moving it to a new version) so that bytes past the end can never reappear when the file
 * grows again. Chunks wholly past the end are dropped by the namespace's setattr.
 */
import { CHUNK_SIZE } from '../../common/ids.js';
import { getInode } from '../tree/inode-row.js';
import type { ChunkDeps } from './chunk-deps.js';
import { moveVersion, recordMove } from './move-version.js';
import { chunkAt } from './chunk-rows.js';

/** Cuts the chunk at min(old size, new size); returns the chunk index touched (or undefined). */
export async function cutBoundaryChunk(deps: ChunkDeps, ino: number, newSize: number): Promise<void> {
  const inode = await getInode(deps.db.reader, ino);
  if (inode.type !== 1) return; // the namespace reports EISDIR/EINVAL
  const boundary = Math.min(inode.size, newSize);
  const idx = Math.floor(boundary / CHUNK_SIZE);
  const within = boundary - idx * CHUNK_SIZE;
  if (within === 0) return; // the chunk starts at the boundary: wholly past the end
  const chunk = await chunkAt(deps.db.reader, ino, idx);
  if (!chunk) return; // a hole
  const moved = await moveVersion(deps, ino, chunk.chunk_id, chunk.version, chunk.version + 1, { truncateLength: within });
  await deps.db.write((tx) => recordMove(tx, chunk.chunk_id, chunk.version, moved));
}
