/** getxattr, setxattr, listxattr, removexattr. */
import { FsError } from '../../common/errors/errno.js';
import type { XattrMode } from '../meta-client.js';
import { callerOf, type OpContext } from './op-context.js';
import type { VfsState } from './vfs-state.js';

const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

export async function getxattr(s: VfsState, path: string, name: string): Promise<Buffer> {
  if (name.startsWith('system.posix_acl_')) throw new FsError('ENODATA', 'no ACL');
  const attr = await s.entries.resolve(path);
  // The attributes say whether the inode has any (as fresh as the rest of them: the entry TTL).
  if (!attr.hasXattrs || s.entries.isXattrAbsent(attr.ino, name)) throw new FsError('ENODATA', `no attribute ${name}`);
  try {
    return await s.meta.getXattr(attr.ino, name);
  } catch (e) {
    if (e instanceof FsError && e.code === 'ENODATA') s.entries.noteXattrAbsent(attr.ino, name);
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

export async function setxattr(s: VfsState, path: string, name: string, value: Buffer, flags: number, ctx: OpContext): Promise<void> {
  refuseAcl(name);
  const attr = await s.entries.resolve(path);
  const mode: XattrMode = flags & XATTR_CREATE ? 'create' : flags & XATTR_REPLACE ? 'replace' : 'any';
  await s.meta.setXattr(attr.ino, name, Buffer.from(value), mode, { caller: callerOf(ctx) });
  s.entries.forgetIno(attr.ino);
  s.entries.forgetXattrs(attr.ino);
}

export async function listxattr(s: VfsState, path: string): Promise<string[]> {
  const attr = await s.entries.resolve(path);
  if (!attr.hasXattrs) return [];
  return s.meta.listXattr(attr.ino);
}

export async function removexattr(s: VfsState, path: string, name: string, ctx: OpContext): Promise<void> {
  const attr = await s.entries.resolve(path);
  await s.meta.removeXattr(attr.ino, name, { caller: callerOf(ctx) });
  s.entries.forgetIno(attr.ino);
  s.entries.forgetXattrs(attr.ino);
}
