/** unlink, rename, link, symlink, readlink, mknod. */
import { constants } from 'node:fs';
import { FsError } from '../../common/errors/errno.js';
import type { Renamed } from '../meta-client.js';
import { fst, type Attr } from '../types.js';
import { HIDDEN_NAME } from './hidden-files.js';
import { callerOf, type OpContext } from './op-context.js';
import type { VfsState } from './vfs-state.js';

export async function unlink(s: VfsState, path: string, ctx: OpContext): Promise<void> {
  const { dir, name, dirPath } = await s.entries.parentOf(path);
  // Only to invalidate: the kernel looked the name up just before, so it is cached if it matters.
  const target = s.entries.peek(path);
  let dirAttr: Attr | undefined;
  try {
    const res = await s.meta.unlink(dir.ino, name, { caller: callerOf(ctx) });
    dirAttr = res.parentAttr;
    // Other names of the inode now show one link less.
    if (res.nlink > 0 && target) s.entries.forgetIno(target.ino);
  } finally {
    s.entries.forget(path);
    // After a failure nothing is known of the directory: it is forgotten.
    s.entries.dirChanged(dirPath, dirAttr);
  }
}

export async function rename(s: VfsState, from: string, to: string, ctx: OpContext, noReplace = false): Promise<void> {
  const src = await s.entries.parentOf(from);
  const dst = await s.entries.parentOf(to);
  if (HIDDEN_NAME.test(dst.name) && src.dirPath === dst.dirPath) {
    // libfuse hiding an open file (see hidden-files.ts): link now, drop the old name later.
    const file = await s.entries.resolve(from);
    const { newParentAttr } = await s.meta.link(file.ino, dst.dir.ino, dst.name, { caller: callerOf(ctx) });
    s.entries.forgetIno(file.ino);
    s.entries.dirChanged(src.dirPath, newParentAttr);
    s.hides.start({ path: from, dirIno: src.dir.ino, name: src.name });
    return;
  }
  // Only to invalidate (no lookups: the kernel looked both names up just before).
  const moved = s.entries.peek(from);
  const replaced = s.entries.peek(to);
  let res: Renamed | undefined;
  try {
    res = await s.meta.rename(src.dir.ino, src.name, dst.dir.ino, dst.name, noReplace, { caller: callerOf(ctx) });
  } finally {
    s.entries.forgetTree(from);
    s.entries.forgetTree(to);
    // After a failure nothing is known of the directories: they are forgotten.
    s.entries.dirChanged(src.dirPath, res?.parentAttr);
    s.entries.dirChanged(dst.dirPath, res?.newParentAttr);
    if (moved) s.entries.forgetIno(moved.ino);
    // A replaced file lost a link: its other names (if any) must show it.
    if (replaced) s.entries.forgetIno(replaced.ino);
  }
}

export async function link(s: VfsState, existing: string, newPath: string, ctx: OpContext): Promise<Attr> {
  const target = await s.entries.resolve(existing);
  const { dir, dirPath } = await s.entries.parentOf(newPath);
  const name = newPath.slice(newPath.lastIndexOf('/') + 1);
  const { attr, newParentAttr } = await s.meta.link(target.ino, dir.ino, name, { caller: callerOf(ctx) });
  // nlink and ctime changed for every name of the inode: drop them all, cache the fresh one.
  s.entries.forgetIno(target.ino);
  s.entries.added(dirPath, newPath, attr, newParentAttr);
  return attr;
}

export async function symlink(s: VfsState, target: string, path: string, ctx: OpContext): Promise<Attr> {
  const { dir, name, dirPath } = await s.entries.parentOf(path);
  const { attr, parentAttr } = await s.meta.symlink(dir.ino, name, target, { caller: callerOf(ctx) });
  s.entries.added(dirPath, path, attr, parentAttr);
  return attr;
}

export async function readlink(s: VfsState, path: string): Promise<string> {
  const attr = await s.entries.resolve(path);
  return s.meta.readlink(attr.ino);
}

const typeOfMode: Record<number, fst.FileType> = {
  [constants.S_IFREG]: fst.FileType.REGULAR,
  [constants.S_IFIFO]: fst.FileType.FIFO,
  [constants.S_IFCHR]: fst.FileType.CHAR_DEVICE,
  [constants.S_IFBLK]: fst.FileType.BLOCK_DEVICE,
  [constants.S_IFSOCK]: fst.FileType.SOCKET,
};

/** mknod(2): regular files, fifos, devices and sockets (the kernel sends directories to mkdir). */
export async function mknod(s: VfsState, path: string, mode: number, rdev: number, ctx: OpContext): Promise<Attr> {
  const fmt = mode & constants.S_IFMT;
  const type = fmt === 0 ? fst.FileType.REGULAR : typeOfMode[fmt];
  if (type === undefined) throw new FsError('EINVAL', `mknod of file type 0${fmt.toString(8)}`);
  const { dir, name, dirPath } = await s.entries.parentOf(path);
  const { attr, parentAttr } = await s.meta.mknod(dir.ino, name, mode & 0o7777, { type, rdev, exclusive: true }, { caller: callerOf(ctx) });
  s.entries.added(dirPath, path, attr, parentAttr);
  return attr;
}
