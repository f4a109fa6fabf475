/**
 * Who may change which attribute (chmod, chown, truncate, utimensat), judged before setattr
 * writes anything. Simplified POSIX as Linux applies it in setattr_prepare / chown_ok /
 * utimes_common; root and trusted callers pass every check. The master applies them to every
 * setattr (master/tree/attr.ts); fst-mount to those it answers itself (client/vfs/ops-delegated.ts).
 */
import { fst } from '../proto-gen/fst.js';
import { FsError } from './errors/errno.js';
import {
  MAY_WRITE, S_ISGID, S_ISUID, S_IXGRP, checkAccess, checkOwner, hasAccess, inGroup, isOwner, isPrivileged,
  type Cred, type Owned,
} from './permissions.js';

const F = fst.SetAttrField;

export interface SetAttrInput {
  fields?: number | null;
  mode?: number | null;
  uid?: number | null;
  gid?: number | null;
  size?: number | null;
  atime?: fst.ITimespec | null;
  mtime?: fst.ITimespec | null;
  ctime?: fst.ITimespec | null;
  /**
   * The change comes through a descriptor the caller opened for writing (ftruncate): its open
   * checked write permission, and Linux does not check it again, whatever the mode is now.
   */
  writeHandle?: boolean | null;
}

/**
 * Whether a mode change only drops S_ISUID and/or S_ISGID, and drops at least one: what the kernel
 * asks for, as the writer, when someone who is not the owner writes to or truncates a set-id file
 * (file_remove_privs). Dropping a privilege needs only write permission, as the write did.
 */
function onlyDropsSetId(row: Owned, req: SetAttrInput): boolean {
  const mode = (req.mode ?? 0) & 0o7777;
  const dropped = row.mode & ~mode;
  return dropped !== 0 && (dropped & ~(S_ISUID | S_ISGID)) === 0 && (mode & ~row.mode) === 0;
}

/** Throws the errno Linux would give for this setattr by this caller. */
export function checkSetattr(row: Owned, req: SetAttrInput, cred: Cred | undefined): void {
  const f = req.fields ?? 0;
  if (f & F.SET_ATTR_SIZE) {
    if (row.type === fst.FileType.DIRECTORY) throw new FsError('EISDIR', `inode ${row.ino} is a directory`);
    if (row.type !== fst.FileType.REGULAR) throw new FsError('EINVAL', `cannot set the size of inode ${row.ino}`);
  }
  if (isPrivileged(cred)) return;

  if (f & F.SET_ATTR_MODE && !(onlyDropsSetId(row, req) && (req.writeHandle || hasAccess(row, cred, MAY_WRITE)))) checkOwner(row, cred);
  // chown: only root gives a file away; the owner may "change" it to itself.
  if (f & F.SET_ATTR_UID && (req.uid ?? 0) !== row.uid) {
    throw new FsError('EPERM', `only root may change the owner of inode ${row.ino}`);
  }
  if (f & (F.SET_ATTR_UID | F.SET_ATTR_GID)) checkOwner(row, cred);
  // chgrp: the owner, to a group it belongs to (or to the group the file already has).
  if (f & F.SET_ATTR_GID) {
    const gid = req.gid ?? 0;
    if (gid !== row.gid && !inGroup(cred, gid)) throw new FsError('EPERM', `not a member of group ${gid}`);
  }
  // Setting times to chosen values could forge history: owner only. Setting them to "now" is
  // what any writer does anyway (touch): owner or write permission.
  if (f & (F.SET_ATTR_ATIME | F.SET_ATTR_MTIME)) {
    const explicitA = (f & F.SET_ATTR_ATIME) !== 0 && (f & F.SET_ATTR_ATIME_NOW) === 0;
    const explicitM = (f & F.SET_ATTR_MTIME) !== 0 && (f & F.SET_ATTR_MTIME_NOW) === 0;
    if (explicitA || explicitM) checkOwner(row, cred);
  }
  if (f & (F.SET_ATTR_ATIME_NOW | F.SET_ATTR_MTIME_NOW) && !isOwner(row, cred) && !hasAccess(row, cred, MAY_WRITE)) {
    throw new FsError('EACCES', `no write permission on inode ${row.ino}`);
  }
  // ctime is the kernel's own record; setting it is for restoring metadata, by root.
  if (f & F.SET_ATTR_CTIME) throw new FsError('EPERM', 'only root may set ctime');
  if (f & F.SET_ATTR_SIZE && !req.writeHandle) checkAccess(row, cred, MAY_WRITE);
}

/**
 * The mode bits that survive a change. chmod by a non-member of the file's group drops setgid;
 * chown of a non-directory drops setuid, and setgid when group-executable (so that a file given
 * away keeps no privilege); an explicit mode in the same request wins.
 */
export function resultingMode(row: Owned, req: SetAttrInput, gid: number, cred: Cred | undefined): number {
  const f = req.fields ?? 0;
  if (f & F.SET_ATTR_MODE) {
    let mode = (req.mode ?? 0) & 0o7777;
    if (!isPrivileged(cred) && !inGroup(cred, gid)) mode &= ~S_ISGID;
    return mode;
  }
  let mode = row.mode;
  if (f & (F.SET_ATTR_UID | F.SET_ATTR_GID) && row.type !== fst.FileType.DIRECTORY) {
    mode &= ~S_ISUID;
    if (mode & S_IXGRP) mode &= ~S_ISGID;
  }
  return mode;
}
