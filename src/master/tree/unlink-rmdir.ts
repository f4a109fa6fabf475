/** unlink(2) and rmdir(2): removing one name, and freeing the inode when no name is left. */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { ROOT_INO } from '../../common/ids.js';
import type { Tx } from '../db/engine.js';
import { rowToAttr, type InodeRow } from './inode-row.js';
import { MAY_EXEC, MAY_WRITE, checkAccess, checkName, checkSticky, rejectDots, type Cred } from './checks.js';
import { deleteEntry, getChild, getDir, isEmptyDir } from './entries.js';
import { freeInode } from './free-inode.js';
import { dropLink, touchDir } from './inode-writes.js';
import { checkExpected, stampTime, type Stamp } from './stamp.js';

/** What a removal answers: the directory as committed with it (its new mtime, ctime and nlink). */
export interface RemoveResult {
  parentAttr: fst.IAttr;
}

export interface UnlinkResult extends RemoveResult {
  /** Links left on the inode (0 = inode and data freed). */
  nlink: number;
}

/**
 * Loads the entry to remove and checks the caller may remove it: search+write on the directory,
 * then the sticky bit (Linux may_delete order: ENOENT, EACCES, EPERM).
 */
async function removable(tx: Tx, parent: number, name: string, cred: Cred | undefined): Promise<{ dir: InodeRow; victim: InodeRow }> {
  const dir = await getDir(tx, parent);
  checkAccess(dir, cred, MAY_EXEC);
  const victim = await getChild(tx, dir.ino, name);
  checkAccess(dir, cred, MAY_WRITE | MAY_EXEC);
  checkSticky(dir, victim, cred);
  return { dir, victim };
}

/**
 * unlink: removes a non-directory name; returns the links left (0 = inode and data freed, or kept
 * as an orphan when it is `keepIno`, which the caller has open).
 */
export async function unlink(tx: Tx, parent: number, name: string, cred: Cred | undefined, keepIno = 0, stamp?: Stamp): Promise<UnlinkResult> {
  checkName(name, 'lookup');
  // "." and ".." are directories: Linux unlink answers EISDIR for them.
  rejectDots(name, 'EISDIR', 'unlink');
  const { dir, victim } = await removable(tx, parent, name, cred);
  checkExpected(stamp, victim);
  if (victim.type === fst.FileType.DIRECTORY) throw new FsError('EISDIR', `${JSON.stringify(name)} is a directory`);
  const now = stampTime(stamp);
  await deleteEntry(tx, dir.ino, name);
  const touched = await touchDir(tx, dir, now);
  const nlink = await dropLink(tx, victim, now, keepIno);
  return { nlink, parentAttr: rowToAttr(touched) };
}

/** rmdir: removes an empty directory; its parent loses the link its ".." held. */
export async function rmdir(tx: Tx, parent: number, name: string, cred: Cred | undefined, stamp?: Stamp): Promise<RemoveResult> {
  checkName(name, 'lookup');
  // As Linux: rmdir(".") is EINVAL (cannot remove the cwd by that name); ".." is never empty.
  rejectDots(name, name === '.' ? 'EINVAL' : 'ENOTEMPTY', 'rmdir');
  const { dir, victim } = await removable(tx, parent, name, cred);
  checkExpected(stamp, victim);
  if (victim.type !== fst.FileType.DIRECTORY) throw new FsError('ENOTDIR', `${JSON.stringify(name)} is not a directory`);
  // Unreachable through a name today (the root has no entry); kept so a corrupt entry cannot
  // take the root away.
  if (victim.ino === ROOT_INO) throw new FsError('EBUSY', 'the root directory cannot be removed');
  if (!(await isEmptyDir(tx, victim.ino))) throw new FsError('ENOTEMPTY', `directory ${JSON.stringify(name)} is not empty`);
  await deleteEntry(tx, dir.ino, name);
  const touched = await touchDir(tx, dir, stampTime(stamp), -1);
  await freeInode(tx, victim);
  return { parentAttr: rowToAttr(touched) };
}
