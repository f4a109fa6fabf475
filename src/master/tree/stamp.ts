/**
 * What a change that a mount already answered in a delegated directory carries (ApplyChanges): the
 * time it told the kernel, and the inode number it gave a new entry or saw under the name it removed
 * or moved. Calls that come to the master first carry none: the master's clock and its allocator.
 */
import { FsError } from '../../common/errors/errno.js';
import { nowTimespec, type InodeRow } from './inode-row.js';
import type { Timespec } from './inode-writes.js';

export interface Stamp {
  now?: Timespec;
  /** mkdir, symlink: the number the new inode gets (reserved by Delegate); removals, rename: the inode expected under the name. */
  ino?: number;
}

export function stampTime(stamp: Stamp | undefined): Timespec {
  return stamp?.now ?? nowTimespec();
}

/** ESTALE when the mount saw another inode under the name than the one there now. */
export function checkExpected(stamp: Stamp | undefined, row: InodeRow): void {
  if (stamp?.ino !== undefined && stamp.ino !== row.ino) {
    throw new FsError('ESTALE', `the name now holds inode ${row.ino}, not ${stamp.ino}`);
  }
}
