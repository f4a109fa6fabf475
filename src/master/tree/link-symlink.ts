/** link(2), symlink(2) and readlink(2). */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { Reader, Tx } from '../db/engine.js';
import { getInode, nowTimespec, rowToAttr } from './inode-row.js';
import { PATH_MAX } from '../../common/ids.js';
import { rejectDots, type Cred } from './checks.js';
import { checkCreateAccess, createInode, prepareCreate, type CreateResult } from './create.js';
import { insertEntry } from './entries.js';
import { stampTime, type Stamp } from './stamp.js';
import { touchCtime, touchDir } from './inode-writes.js';

/** What link answers: the inode (new nlink and ctime) and the new name's directory as committed. */
export interface LinkResult {
  attr: fst.IAttr;
  newParentAttr: fst.IAttr;
}

/**
 * link: a new name `newName` in `newParent` for inode `ino`. Attributes live on the inode, so the
 * new nlink and ctime show through every name at once.
 */
export async function link(tx: Tx, ino: number, newParent: number, newName: string, cred: Cred | undefined): Promise<LinkResult> {
  rejectDots(newName, 'EEXIST', 'link');
  const src = await getInode(tx, ino);
  // An orphan (removed while open) has no name left; as Linux, it cannot get one back.
  if (src.nlink <= 0) throw new FsError('ENOENT', `inode ${ino} has no name left`);
  const { dir, existing } = await prepareCreate(tx, newParent, newName, cred);
  if (existing) throw new FsError('EEXIST', `${JSON.stringify(newName)} exists in directory ${dir.ino}`);
  checkCreateAccess(dir, cred);
  // Hard links to directories would make the tree a graph (and `parent` ambiguous).
  if (src.type === fst.FileType.DIRECTORY) throw new FsError('EPERM', `cannot hard-link directory ${ino}`);
  const now = nowTimespec();
  await insertEntry(tx, dir.ino, newName, src.ino, src.type);
  await touchCtime(tx, src.ino, now, 1);
  const touched = await touchDir(tx, dir, now);
  return {
    attr: rowToAttr({ ...src, nlink: src.nlink + 1, ctime_s: now.sec, ctime_ns: now.nsec }),
    newParentAttr: rowToAttr(touched),
  };
}

/** symlink: a new symbolic link holding `target` as given (never resolved by the master). */
export async function symlink(tx: Tx, parent: number, name: string, target: string, cred: Cred | undefined, stamp?: Stamp): Promise<CreateResult> {
  rejectDots(name, 'EEXIST', 'symlink');
  // As symlink(2): an empty target is ENOENT; a NUL could not pass through the C API.
  if (target === '') throw new FsError('ENOENT', 'empty symlink target');
  if (target.includes('\0')) throw new FsError('EINVAL', 'symlink target contains NUL');
  const size = Buffer.byteLength(target, 'utf8');
  if (size >= PATH_MAX) throw new FsError('ENAMETOOLONG', `symlink target longer than ${PATH_MAX - 1} bytes`);
  const { dir, existing } = await prepareCreate(tx, parent, name, cred);
  if (existing) throw new FsError('EEXIST', `${JSON.stringify(name)} exists in directory ${dir.ino}`);
  checkCreateAccess(dir, cred);
  const made = await createInode(tx, dir, name, { type: fst.FileType.SYMLINK, mode: 0o777, size, target }, cred, stampTime(stamp), stamp?.ino);
  return { attr: rowToAttr(made.row), parentAttr: rowToAttr(made.dir) };
}

/** readlink: the target of a symlink; EINVAL for anything else. */
export async function readlink(q: Reader, ino: number): Promise<string> {
  const row = await getInode(q, ino);
  if (row.type !== fst.FileType.SYMLINK) throw new FsError('EINVAL', `inode ${ino} is not a symlink`);
  return row.target ?? '';
}
