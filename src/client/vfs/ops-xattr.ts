/** getxattr, setxattr, listxattr, removexattr. */
import { FsError } from '../../common/errors/errno.js';
import type { XattrMode } from '../meta-client.js';
import { staleIfGone } from './ops-attr.js';
import { callerOf, type OpContext } from './op-context.js';
import type { VfsState } from './vfs-state.js';

const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

export async function getxattr(s: VfsState, ino: number, name: string): Promise<Buffer> {
  if (name.startsWith('system.posix_acl_')) throw new FsError('ENODATA', 'no ACL');
  const attr = (await s.entries.getattr(ino).catch(staleIfGone)).value;
  // The attributes say whether the inode has any (as fresh as the rest of them: the entry TTL).
  if (!attr.hasXattrs || s.entries.isXattrAbsent(ino, name)) throw new FsError('ENODATA', `no attribute ${name}`);
  try {
    return await s.meta.getXattr(ino, name);
  } catch (e) {
    if (e instanceof FsError && e.code === 'ENODATA') s.entries.noteXattrAbsent(ino, name);
    throw e;
  }
}

/**
 * POSIX ACLs arrive as system.posix_acl_* xattrs. FST does not enforce ACLs, so it refuses them
 * (ENOTSUP): tools such as `cp -a` then fall back to chmod, instead of storing an ACL that would
 * stand in for a mode that was never set.
 */
function refuseAcl(name: string): void {
  if (name.startsWith('system.posix_acl_')) throw new FsError('ENOTSUP', 'POSIX ACLs are not supported');
}

export async function setxattr(s: VfsState, ino: number, name: string, value: Buffer, flags: number, ctx: OpContext): Promise<void> {
  refuseAcl(name);
  const mode: XattrMode = flags & XATTR_CREATE ? 'create' : flags & XATTR_REPLACE ? 'replace' : 'any';
  await s.meta.setXattr(ino, name, value, mode, { caller: callerOf(ctx) }).catch(staleIfGone);
  s.entries.forgetAttr(ino);
  s.entries.forgetXattrs(ino);
}

export async function listxattr(s: VfsState, ino: number): Promise<string[]> {
  const attr = (await s.entries.getattr(ino).catch(staleIfGone)).value;
  if (!attr.hasXattrs) return [];
  return s.meta.listXattr(ino);
}

export async function removexattr(s: VfsState, ino: number, name: string, ctx: OpContext): Promise<void> {
  await s.meta.removeXattr(ino, name, { caller: callerOf(ctx) }).catch(staleIfGone);
  s.entries.forgetAttr(ino);
  s.entries.forgetXattrs(ino);
}
