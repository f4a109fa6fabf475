/**
 * Name and permission checks shared by every namespace operation. Nothing here touches the
 * database: operations load the rows, these functions judge them (JuiceFS keeps its checks in
 * base.go apart from the storage engines for the same reason: one place to read the rules).
 *
 * The permission rules themselves (who owns, who may read or write) are in
 * common/permissions.ts, shared with fst-mount, which judges the changes it answers itself the same
 * way; they are re-exported here.
 */
import { fst } from '../../proto-gen/fst.js';
import { FsError, type ErrnoName } from '../../common/errors/errno.js';
import { NAME_MAX } from '../../common/ids.js';
import { S_ISGID, S_ISVTX, S_IXGRP, inGroup, isPrivileged, type Cred } from '../../common/permissions.js';
import type { InodeRow } from './inode-row.js';

export {
  MAY_EXEC, MAY_READ, MAY_WRITE, S_ISGID, S_ISUID, S_ISVTX, S_IXGRP, checkAccess, checkOwner, hasAccess, inGroup, isOwner,
  isPrivileged, toCred, type Caller, type Cred,
} from '../../common/permissions.js';

/**
 * In a sticky directory (/tmp), only the owner of an entry or of the directory may remove or
 * rename it. Linux answers EPERM here, not EACCES (may_delete in fs/namei.c).
 */
export function checkSticky(dir: InodeRow, victim: InodeRow, cred: Cred | undefined): void {
  if (isPrivileged(cred) || (dir.mode & S_ISVTX) === 0) return;
  if (cred.uid !== dir.uid && cred.uid !== victim.uid) {
    throw new FsError('EPERM', `sticky directory ${dir.ino}: not the owner of inode ${victim.ino}`);
  }
}

export function isDots(name: string): boolean {
  return name === '.' || name === '..';
}

/**
 * Validates one path component. Why "" differs: a lookup of "" finds nothing (ENOENT, as
 * open("") does), while asking to create "" is a malformed request (EINVAL). "." and ".." are
 * valid here; each operation decides what they mean for it (see rejectDots).
 */
export function checkName(name: string, purpose: 'lookup' | 'create'): void {
  if (name === '') {
    throw new FsError(purpose === 'lookup' ? 'ENOENT' : 'EINVAL', 'empty name');
  }
  if (name.includes('/') || name.includes('\0')) {
    throw new FsError('EINVAL', `name contains '/' or NUL: ${JSON.stringify(name)}`);
  }
  if (Buffer.byteLength(name, 'utf8') > NAME_MAX) {
    throw new FsError('ENAMETOOLONG', `name longer than ${NAME_MAX} bytes`);
  }
}

/** Fails with `code` when `name` is "." or "..": each call names the errno Linux gives. */
export function rejectDots(name: string, code: ErrnoName, op: string): void {
  if (isDots(name)) throw new FsError(code, `${op}: "${name}" is not allowed`);
}

/** ENOTDIR unless `row` is a directory. */
export function requireDirectory(row: InodeRow): void {
  if (row.type !== fst.FileType.DIRECTORY) {
    throw new FsError('ENOTDIR', `inode ${row.ino} is not a directory`);
  }
}

/** Mode bits a caller may give a new inode: setgid on a file of a foreign group is dropped. */
export function creationMode(mode: number, isDir: boolean, gid: number, cred: Cred | undefined): number {
  let m = mode & 0o7777;
  // Linux inode_init_owner: a non-member may not create a setgid (group-executable) file.
  if (!isDir && (m & S_ISGID) && (m & S_IXGRP) && !isPrivileged(cred) && !inGroup(cred, gid)) {
    m &= ~S_ISGID;
  }
  return m;
}
