/**
 * Name and permission checks shared by every namespace operation. Nothing here touches the
 * database: operations load the rows, these functions judge them (JuiceFS keeps its checks in
 * base.go apart from the storage engines for the same reason: one place to read the rules).
 *
 * Permissions follow simplified POSIX: a caller with uid 0, or no caller at all (a trusted
 * in-process request), passes every check. Others get the owner, group or other class of the mode
 * bits. ACLs and capabilities other than "is root" do not exist in FST.
 */
import { fst } from '../../proto-gen/fst.js';
import { FsError, type ErrnoName } from '../../common/errors/errno.js';
import { NAME_MAX } from '../../common/ids.js';
import type { InodeRow } from './inode-row.js';

export const MAY_READ = 4;
export const MAY_WRITE = 2;
export const MAY_EXEC = 1;

export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
export const S_IXGRP = 0o010;

/** Who asks, resolved from the wire Caller. `undefined` means a trusted internal request. */
export interface Cred {
  uid: number;
  gid: number;
  groups: readonly number[];
}

/** The wire Caller as the tree operations accept it (absent = trusted). */
export type Caller = fst.ICaller | null | undefined;

export function toCred(caller: Caller): Cred | undefined {
  if (!caller) return undefined;
  return { uid: caller.uid ?? 0, gid: caller.gid ?? 0, groups: caller.groups ?? [] };
}

/** True for root and for trusted internal requests. */
export function isPrivileged(cred: Cred | undefined): cred is undefined | (Cred & { uid: 0 }) {
  return cred === undefined || cred.uid === 0;
}

export function inGroup(cred: Cred, gid: number): boolean {
  return cred.gid === gid || cred.groups.includes(gid);
}

export function isOwner(row: InodeRow, cred: Cred | undefined): boolean {
  return isPrivileged(cred) || cred.uid === row.uid;
}

/** True when `cred` holds every bit of `mask` (MAY_*) on `row`. */
export function hasAccess(row: InodeRow, cred: Cred | undefined, mask: number): boolean {
  if (isPrivileged(cred)) return true;
  const shift = cred.uid === row.uid ? 6 : inGroup(cred, row.gid) ? 3 : 0;
  return ((row.mode >> shift) & mask) === mask;
}

/** EACCES unless `cred` holds every bit of `mask` on `row`. */
export function checkAccess(row: InodeRow, cred: Cred | undefined, mask: number): void {
  if (!hasAccess(row, cred, mask)) {
    throw new FsError('EACCES', `permission denied on inode ${row.ino}`);
  }
}

/** EPERM unless `cred` owns `row` (chmod, explicit utimes, chown). */
export function checkOwner(row: InodeRow, cred: Cred | undefined): void {
  if (!isOwner(row, cred)) throw new FsError('EPERM', `not the owner of inode ${row.ino}`);
}

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
