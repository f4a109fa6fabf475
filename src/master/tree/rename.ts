/**
 * rename(2) and renameat2(RENAME_NOREPLACE). The whole move, including replacing and freeing an
 * existing target, is one transaction: another client sees the old name or the new one, never
 * both or neither.
 */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { ROOT_INO } from '../../common/ids.js';
import type { Tx } from '../db/engine.js';
import { rowToAttr, type InodeRow } from './inode-row.js';
import {
  MAY_EXEC, MAY_WRITE, checkAccess, checkName, checkSticky, isDots, rejectDots, type Cred,
} from './checks.js';
import { deleteEntry, getDirAndChild, insertEntry, isEmptyDir, parentOf } from './entries.js';
import { freeInode } from './free-inode.js';
import { dropLink, touchCtime, touchDir } from './inode-writes.js';
import { checkExpected, stampTime, type Stamp } from './stamp.js';

export interface RenameArgs {
  parent: number;
  name: string;
  newParent: number;
  newName: string;
  noReplace: boolean;
  /** The caller has this inode open: a replaced target that it is becomes an orphan (orphans.ts). */
  keepIno?: number;
}

/** Both directories as committed with the rename; the same attributes twice when they are one. */
export interface RenameResult {
  parentAttr: fst.IAttr;
  newParentAttr: fst.IAttr;
  /** Something was at the new name and was replaced. */
  replaced: boolean;
}

/** Deeper than any sane tree; reaching it means a corrupt `parent` chain, not a real path. */
const MAX_DEPTH = 65_536;

/** EINVAL when directory `moved` is `dest` or one of its ancestors (a cycle would be made). */
async function checkNotIntoItself(tx: Tx, moved: number, dest: number): Promise<void> {
  let cur = dest;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (cur === moved) throw new FsError('EINVAL', `cannot move directory ${moved} into its own subtree`);
    if (cur === ROOT_INO) return;
    cur = await parentOf(tx, cur);
  }
  throw new FsError('EIO', `parent chain of directory ${dest} does not reach the root`);
}

/** Type rules for replacing `target` with `moved` (POSIX rename). */
async function checkReplace(tx: Tx, moved: InodeRow, target: InodeRow): Promise<void> {
  const movedIsDir = moved.type === fst.FileType.DIRECTORY;
  const targetIsDir = target.type === fst.FileType.DIRECTORY;
  if (movedIsDir && !targetIsDir) throw new FsError('ENOTDIR', `cannot replace non-directory ${target.ino} with a directory`);
  if (!movedIsDir && targetIsDir) throw new FsError('EISDIR', `cannot replace directory ${target.ino} with a non-directory`);
  if (targetIsDir && !(await isEmptyDir(tx, target.ino))) {
    throw new FsError('ENOTEMPTY', `directory ${target.ino} is not empty`);
  }
}

/**
 * rename: moves `name` in `parent` to `newName` in `newParent`, replacing what is there. "." or
 * ".." as either name is EBUSY, as on Linux (EEXIST for the new name with noReplace).
 */
export async function rename(tx: Tx, a: RenameArgs, cred: Cred | undefined, stamp?: Stamp): Promise<RenameResult> {
  checkName(a.name, 'lookup');
  checkName(a.newName, 'create');
  rejectDots(a.name, 'EBUSY', 'rename');
  if (isDots(a.newName)) rejectDots(a.newName, a.noReplace ? 'EEXIST' : 'EBUSY', 'rename');

  // Both directories with both names.
  const [src, dst] = await Promise.all([getDirAndChild(tx, a.parent, a.name), getDirAndChild(tx, a.newParent, a.newName)]);
  const srcDir = src.dir;
  const dstDir = dst.dir;
  checkAccess(srcDir, cred, MAY_EXEC);
  checkAccess(dstDir, cred, MAY_EXEC);
  const moved = src.child;
  if (!moved) throw new FsError('ENOENT', `no entry ${JSON.stringify(a.name)} in directory ${srcDir.ino}`);
  checkExpected(stamp, moved);
  const target = dst.child;
  // POSIX: two names of the same inode: rename does nothing and succeeds.
  if (target?.ino === moved.ino) return { parentAttr: rowToAttr(srcDir), newParentAttr: rowToAttr(dstDir), replaced: false };
  if (target && a.noReplace) throw new FsError('EEXIST', `${JSON.stringify(a.newName)} exists in directory ${dstDir.ino}`);

  checkAccess(srcDir, cred, MAY_WRITE | MAY_EXEC);
  checkAccess(dstDir, cred, MAY_WRITE | MAY_EXEC);
  checkSticky(srcDir, moved, cred);
  if (target) checkSticky(dstDir, target, cred);

  const movedIsDir = moved.type === fst.FileType.DIRECTORY;
  const crossDir = srcDir.ino !== dstDir.ino;
  if (movedIsDir && crossDir) {
    await checkNotIntoItself(tx, moved.ino, dstDir.ino);
    // Moving a directory rewrites its "..": Linux asks for write permission on it.
    checkAccess(moved, cred, MAY_WRITE);
  }
  if (target) await checkReplace(tx, moved, target);

  const now = stampTime(stamp);
  // Link-count changes of the two parents: a directory's ".." moves from one to the other; a
  // replaced directory takes its ".." link to the destination with it.
  let srcDelta = 0;
  let dstDelta = 0;
  if (movedIsDir && crossDir) {
    srcDelta -= 1;
    dstDelta += 1;
  }
  if (target) {
    await deleteEntry(tx, dstDir.ino, a.newName);
    if (target.type === fst.FileType.DIRECTORY) {
      dstDelta -= 1;
      await freeInode(tx, target);
    } else {
      // Kept a moment if it was its last name: an open racing this rename still finds it (orphans.ts).
      await dropLink(tx, target, now, a.keepIno ?? 0, true);
    }
  }
  await deleteEntry(tx, srcDir.ino, a.name);
  await insertEntry(tx, dstDir.ino, a.newName, moved.ino, moved.type);
  if (movedIsDir && crossDir) {
    tx.runLater('UPDATE inodes SET parent = ? WHERE ino = ?', [dstDir.ino, moved.ino]);
  }
  await touchCtime(tx, moved.ino, now);
  if (!crossDir) {
    const dirAttr = rowToAttr(await touchDir(tx, srcDir, now, srcDelta + dstDelta));
    return { parentAttr: dirAttr, newParentAttr: dirAttr, replaced: target !== undefined };
  }
  const srcAfter = await touchDir(tx, srcDir, now, srcDelta);
  const dstAfter = await touchDir(tx, dstDir, now, dstDelta);
  return { parentAttr: rowToAttr(srcAfter), newParentAttr: rowToAttr(dstAfter), replaced: target !== undefined };
}
