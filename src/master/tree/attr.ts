/**
 * getattr (stat) and setattr (chmod, chown, truncate, utimensat in one request, selected by
 * fst.SetAttrField bits; a field whose bit is absent is left alone, as UTIME_OMIT).
 */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import type { Reader, Tx } from '../db/engine.js';
import { getInode, nowTimespec, rowToAttr, type InodeRow } from './inode-row.js';
import type { Cred } from './checks.js';
import { checkSetattr, resultingMode, type SetAttrInput } from '../../common/setattr-checks.js';
import { dropChunkRange, dropChunks } from './free-inode.js';
import { truncateInline } from './inline-data.js';
import { setTime, updateInode, type Timespec } from './inode-writes.js';

export type { SetAttrInput } from '../../common/setattr-checks.js';

const F = fst.SetAttrField;

/** getattr: the attributes of `ino`. */
export async function getattr(q: Reader, ino: number): Promise<fst.IAttr> {
  return rowToAttr(await getInode(q, ino));
}

function timespec(t: fst.ITimespec | null | undefined, what: string): Timespec {
  const sec = t?.sec;
  const nsec = t?.nsec ?? 0;
  if (typeof sec !== 'number' || !Number.isSafeInteger(sec) || !Number.isInteger(nsec) || nsec < 0 || nsec > 999_999_999) {
    throw new FsError('EINVAL', `invalid ${what}`);
  }
  return { sec, nsec };
}

function checkSize(size: number | null | undefined): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new FsError('EINVAL', `invalid size ${size}`);
  return size;
}

/**
 * setattr: applies the selected fields and returns the new attributes. A shrinking size queues
 * the chunks wholly past the new end for deletion (the chunk holding the new end was already cut
 * on the chunkservers by the caller). Any change moves ctime to `now` unless SET_ATTR_CTIME gives it.
 */
export async function setattr(tx: Tx, ino: number, req: SetAttrInput, cred: Cred | undefined, now = nowTimespec()): Promise<fst.IAttr> {
  const row = await getInode(tx, ino);
  const f = req.fields ?? 0;
  if (f === 0) return rowToAttr(row);
  checkSetattr(row, req, cred);
  // Parse everything before writing anything: a bad field fails the request as a whole.
  const size = f & F.SET_ATTR_SIZE ? checkSize(req.size) : undefined;
  const atime = f & F.SET_ATTR_ATIME && !(f & F.SET_ATTR_ATIME_NOW) ? timespec(req.atime, 'atime') : undefined;
  const mtime = f & F.SET_ATTR_MTIME && !(f & F.SET_ATTR_MTIME_NOW) ? timespec(req.mtime, 'mtime') : undefined;
  const ctime = f & F.SET_ATTR_CTIME ? timespec(req.ctime, 'ctime') : undefined;

  const next: InodeRow = { ...row };
  if (f & F.SET_ATTR_UID) next.uid = req.uid ?? 0;
  if (f & F.SET_ATTR_GID) next.gid = req.gid ?? 0;
  next.mode = resultingMode(row, req, next.gid, cred);
  if (size !== undefined) {
    if (size < row.size) {
      await dropChunks(tx, ino, Math.ceil(size / CHUNK_SIZE));
      await truncateInline(tx, ino, size);
    }
    next.size = size;
    // POSIX: truncate (and open with O_TRUNC) marks the data as modified.
    setTime(next, 'mtime', now);
  }
  if (f & F.SET_ATTR_ATIME_NOW) setTime(next, 'atime', now);
  else if (atime) setTime(next, 'atime', atime);
  if (f & F.SET_ATTR_MTIME_NOW) setTime(next, 'mtime', now);
  else if (mtime) setTime(next, 'mtime', mtime);
  setTime(next, 'ctime', ctime ?? now);
  await updateInode(tx, next);
  return rowToAttr(next);
}

/**
 * fallocate(PUNCH_HOLE|KEEP_SIZE)'s part at the master: drops the chunks lying wholly inside
 * [offset, offset + length) of the file (the last chunk counts when the range covers it up to the
 * file's end), so that they read as zeros and their space is given back; the mount writes zeros
 * over the rest of the range. mtime and ctime move, the size does not. Through a descriptor opened
 * for writing only (the mount checked it), as Linux does not check the mode again.
 */
export async function punchHole(tx: Tx, ino: number, offset: number, length: number, now = nowTimespec()): Promise<{ attr: fst.IAttr; freed: number }> {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length <= 0 || !Number.isSafeInteger(offset + length)) {
    throw new FsError('EINVAL', `invalid range ${offset}+${length}`);
  }
  const row = await getInode(tx, ino);
  if (row.type === fst.FileType.DIRECTORY) throw new FsError('EISDIR', `inode ${ino} is a directory`);
  if (row.type !== fst.FileType.REGULAR) throw new FsError('EINVAL', `cannot punch a hole in inode ${ino}`);
  const end = offset + length;
  const first = Math.ceil(offset / CHUNK_SIZE);
  const stop = end >= row.size ? Math.ceil(row.size / CHUNK_SIZE) : Math.floor(end / CHUNK_SIZE);
  const freed = stop > first ? await dropChunkRange(tx, ino, first, stop) : 0;
  const next: InodeRow = { ...row };
  setTime(next, 'mtime', now);
  setTime(next, 'ctime', now);
  await updateInode(tx, next);
  return { attr: rowToAttr(next), freed };
}
