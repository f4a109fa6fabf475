/** Whether two attribute sets of an inode say the same. */
import type { Attr, Timespec } from '../types.js';

const sameTime = (a: Timespec, b: Timespec): boolean => a.sec === b.sec && a.nsec === b.nsec;

/** Every field of two attribute sets is equal. */
export function sameAttrs(a: Attr, b: Attr): boolean {
  return a.ino === b.ino && a.type === b.type && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.nlink === b.nlink
    && a.size === b.size && a.rdev === b.rdev && a.replication === b.replication && a.hasXattrs === b.hasXattrs
    && a.changeSeq === b.changeSeq && sameTime(a.mtime, b.mtime) && sameTime(a.ctime, b.ctime) && sameTime(a.atime, b.atime);
}
