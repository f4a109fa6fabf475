/**
 * Small files stored in the metadata (as Ceph and Lustre do): a regular file with a row in
 * `inline_data` keeps its bytes there instead of in chunks. Bytes past the stored data, up to the
 * file size, read as zeros. A file with chunks never has a row; one with neither reads as zeros.
 *
 * Why: a 4 KiB file in chunks costs a chunk allocation (a create on every replica), a write through
 * the replication chain and a commit; inline, it is one master call that carries the bytes, and
 * reading it back is the open call itself. Durability: the bytes are exactly as safe as the file's
 * name and attributes, in the master's database (a committed write survives a master crash; an
 * fsync'ed one is fsynced there too); they are not on chunkservers, so the replication goal does not
 * apply to them, and a file that grows past the limit moves to chunks.
 */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { INLINE_LIMIT } from '../../common/ids.js';
import type { Reader, Tx } from '../db/engine.js';
import { getInode, nowTimespec, rowToAttr } from './inode-row.js';

export { INLINE_LIMIT } from '../../common/ids.js';

/** The inline bytes of `ino`, or undefined when it has none (chunks, or nothing written). */
export async function inlineData(q: Reader | Tx, ino: number): Promise<Buffer | undefined> {
  const row = await q.get<{ data: Buffer }>('SELECT data FROM inline_data WHERE ino = ?', [ino]);
  return row?.data;
}

export interface WriteInlineArgs {
  ino: number;
  data: Buffer;
  /** The ctime the writer's copy of the file was read at: the write fails (ESTALE) if it moved. */
  expectCtime?: { sec: number; nsec: number };
  /** The master's limit for inline files (`--inline-max`). */
  maxBytes: number;
}

/**
 * Replaces the whole content of a file kept inline: size = data.length, mtime and ctime now.
 * EXDEV when the file has chunks (its data is elsewhere: write chunks); ESTALE when it changed
 * since the writer read it (read it again, lay the writes over, retry); EFBIG past the limit.
 */
export async function writeInline(tx: Tx, a: WriteInlineArgs): Promise<fst.IAttr> {
  if (a.data.length > Math.min(a.maxBytes, INLINE_LIMIT)) throw new FsError('EFBIG', `inline data of ${a.data.length} bytes is over the limit of ${a.maxBytes}`);
  const row = await getInode(tx, a.ino);
  if (row.type !== fst.FileType.REGULAR) throw new FsError(row.type === fst.FileType.DIRECTORY ? 'EISDIR' : 'EINVAL', `inode ${a.ino} is not a regular file`);
  if (a.expectCtime && (row.ctime_s !== a.expectCtime.sec || row.ctime_ns !== a.expectCtime.nsec)) {
    throw new FsError('ESTALE', `inode ${a.ino} changed since it was read`);
  }
  if (await tx.get('SELECT 1 AS x FROM chunks WHERE ino = ? LIMIT 1', [a.ino])) throw new FsError('EXDEV', `inode ${a.ino} keeps its data in chunks`);
  await tx.run('INSERT INTO inline_data (ino, data) VALUES (?, ?) ON CONFLICT (ino) DO UPDATE SET data = excluded.data', [a.ino, a.data]);
  const now = nowTimespec();
  await tx.run('UPDATE inodes SET size = ?, mtime_s = ?, mtime_ns = ?, ctime_s = ?, ctime_ns = ? WHERE ino = ?', [a.data.length, now.sec, now.nsec, now.sec, now.nsec, a.ino]);
  return rowToAttr({ ...row, size: a.data.length, mtime_s: now.sec, mtime_ns: now.nsec, ctime_s: now.sec, ctime_ns: now.nsec });
}

/** A truncate to `size`: inline bytes past it go (a larger size keeps them, the rest reads as zeros). */
export async function truncateInline(tx: Tx, ino: number, size: number): Promise<void> {
  await tx.run('UPDATE inline_data SET data = substr(data, 1, ?) WHERE ino = ? AND length(data) > ?', [size, ino, size]);
}

/** The file's data is in chunks now (a commit of chunk writes): its inline bytes go. */
export async function dropInline(tx: Tx, ino: number): Promise<void> {
  await tx.run('DELETE FROM inline_data WHERE ino = ?', [ino]);
}
