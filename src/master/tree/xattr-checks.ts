/**
 * Extended-attribute name, size and permission rules, judged before xattr.ts touches storage.
 * Limits follow Linux (XATTR_NAME_MAX 255, XATTR_SIZE_MAX 64 KiB).
 */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { InodeRow } from './inode-row.js';
import { MAY_WRITE, S_ISVTX, checkAccess, checkOwner, isPrivileged, type Cred } from './checks.js';

export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 64 * 1024;

const NAMESPACES = ['user.', 'trusted.', 'security.', 'system.'] as const;

/**
 * EINVAL for an empty name (or a bare namespace prefix), ERANGE past 255 bytes, ENOTSUP outside
 * the four Linux namespaces (what Linux answers for an unknown prefix).
 */
export function checkXattrName(name: string): void {
  if (name === '') throw new FsError('EINVAL', 'empty xattr name');
  if (Buffer.byteLength(name, 'utf8') > XATTR_NAME_MAX) throw new FsError('ERANGE', `xattr name longer than ${XATTR_NAME_MAX} bytes`);
  if (name.includes('\0')) throw new FsError('EINVAL', 'xattr name contains NUL');
  const ns = NAMESPACES.find((p) => name.startsWith(p));
  if (ns === undefined) throw new FsError('ENOTSUP', `xattr namespace of ${JSON.stringify(name)} is not supported`);
  if (name.length === ns.length) throw new FsError('EINVAL', `xattr name ${JSON.stringify(name)} has no name after the prefix`);
}

export function checkXattrValue(value: Uint8Array): void {
  if (value.byteLength > XATTR_SIZE_MAX) throw new FsError('E2BIG', `xattr value larger than ${XATTR_SIZE_MAX} bytes`);
}

export function checkXattrFlags(flags: number): void {
  const known = [fst.XattrFlag.XATTR_ANY, fst.XattrFlag.XATTR_CREATE, fst.XattrFlag.XATTR_REPLACE] as number[];
  if (!known.includes(flags)) throw new FsError('EINVAL', `unknown xattr flags ${flags}`);
}

/**
 * May `cred` set or remove xattr `name` of `row`? As Linux xattr_permission: trusted.* is root's;
 * user.* needs write permission and exists only on regular files and directories (and, in a
 * sticky directory, only its owner may set them); security.* and system.* (ACLs, labels) are
 * left to the owner, since FST has no security module to ask.
 */
export function checkXattrWrite(row: InodeRow, name: string, cred: Cred | undefined): void {
  if (isPrivileged(cred)) return;
  if (name.startsWith('trusted.')) throw new FsError('EPERM', 'trusted.* xattrs are for root');
  if (name.startsWith('user.')) {
    const isDir = row.type === fst.FileType.DIRECTORY;
    if (!isDir && row.type !== fst.FileType.REGULAR) throw new FsError('EPERM', `user.* xattrs only on files and directories`);
    if (isDir && (row.mode & S_ISVTX) && cred.uid !== row.uid) throw new FsError('EPERM', 'sticky directory: owner only');
    checkAccess(row, cred, MAY_WRITE);
    return;
  }
  checkOwner(row, cred);
}
