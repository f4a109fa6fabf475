/**
 * Releasing storage: chunks past a point of a file (truncate) or the whole inode (last link
 * gone). Chunks are not deleted from chunkservers here; their ids go to `deleted_chunks`, the
 * queue the chunk garbage collector drains, so that a namespace mutation stays one short
 * transaction however large the file.
 */
import { fst } from '../../proto-gen/fst.js';
import type { Tx } from '../db/engine.js';
import { addCounter } from './counters.js';
import { dropInline } from './inline-data.js';
import type { InodeRow } from './inode-row.js';

/** Queues chunks `fromIdx` and beyond of `ino` for deletion; returns how many. */
export async function dropChunks(tx: Tx, ino: number, fromIdx: number): Promise<number> {
  await tx.run(
    'INSERT OR IGNORE INTO deleted_chunks (chunk_id, deleted_ms) SELECT chunk_id, ? FROM chunks WHERE ino = ? AND idx >= ?',
    [Date.now(), ino, fromIdx],
  );
  const { changes } = await tx.run('DELETE FROM chunks WHERE ino = ? AND idx >= ?', [ino, fromIdx]);
  await addCounter(tx, 'chunks', -changes);
  return changes;
}

/** Queues chunks [fromIdx, toIdx) of `ino` for deletion (a punched hole); returns how many. */
export async function dropChunkRange(tx: Tx, ino: number, fromIdx: number, toIdx: number): Promise<number> {
  await tx.run(
    'INSERT OR IGNORE INTO deleted_chunks (chunk_id, deleted_ms) SELECT chunk_id, ? FROM chunks WHERE ino = ? AND idx >= ? AND idx < ?',
    [Date.now(), ino, fromIdx, toIdx],
  );
  const { changes } = await tx.run('DELETE FROM chunks WHERE ino = ? AND idx >= ? AND idx < ?', [ino, fromIdx, toIdx]);
  await addCounter(tx, 'chunks', -changes);
  return changes;
}

/** Deletes an inode that no name refers to any more, with its chunks and xattrs. */
export async function freeInode(tx: Tx, row: InodeRow): Promise<void> {
  if (row.type === fst.FileType.REGULAR) {
    await dropChunks(tx, row.ino, 0);
    await dropInline(tx, row.ino);
    await addCounter(tx, 'files', -1);
  } else if (row.type === fst.FileType.DIRECTORY) {
    await addCounter(tx, 'directories', -1);
  }
  await tx.run('DELETE FROM xattrs WHERE ino = ?', [row.ino]);
  await tx.run('DELETE FROM inodes WHERE ino = ?', [row.ino]);
}
