/**
 * The path half of open(2) for the path API: find or create the regular file a path names, open a
 * Vfs descriptor of it, apply O_TRUNC. The descriptor then belongs to a FileHandle.
 */
import { FsError } from '../common/errors/errno.js';
import { toFsError } from '../common/errors/to-errno.js';
import { accessMode, posixFlags, type OpenFlags } from './file-handle.js';
import type { TreeDeps } from './tree-ops.js';
import { fst } from './types.js';

/** A descriptor of the regular file `path` names, created (O_CREAT) and cut (O_TRUNC) as asked. */
export async function openPath(d: TreeDeps, path: string, flags: OpenFlags, mode: number): Promise<{ fh: number; ino: number }> {
  const posix = posixFlags(flags);
  const opened = flags.create ? await create(d, path, posix, mode, flags.exclusive ?? false) : await openExisting(d, path, posix);
  try {
    // Through the path, not the descriptor: the master checks that the caller may write the file,
    // as open(O_TRUNC) does (a descriptor's own right to write would skip that check).
    if (flags.truncate && accessMode(flags).writable && d.vfs.openState(opened.fh).size > 0) {
      await d.vfs.setattr(opened.ino, { size: 0 }, undefined, d.ctx);
    }
  } catch (e) {
    await d.vfs.release(opened.fh);
    throw e;
  }
  return opened;
}

async function openExisting(d: TreeDeps, path: string, posix: number): Promise<{ fh: number; ino: number }> {
  const attr = await d.resolver.resolve(path, true);
  if (attr.type === fst.FileType.DIRECTORY) throw new FsError('EISDIR', 'is a directory');
  if (attr.type !== fst.FileType.REGULAR) throw new FsError('EINVAL', 'not a regular file');
  // Close-to-open: the Vfs asks the master for the file's attributes again.
  return { fh: (await d.vfs.open(attr.ino, posix)).fh, ino: attr.ino };
}

async function create(d: TreeDeps, path: string, posix: number, mode: number, exclusive: boolean): Promise<{ fh: number; ino: number }> {
  const { dir, name } = await d.resolver.resolveParent(path);
  try {
    // (The Vfs refuses anything but a regular file, as open does.)
    const created = await d.vfs.create(dir.ino, name, mode, posix, d.ctx);
    return { fh: created.fh, ino: created.attr.ino };
  } catch (e) {
    // The name exists but is not a regular file (a symlink to one, a directory): open what it names,
    // and let the type check refuse a directory.
    if (exclusive || toFsError(e).code !== 'EEXIST') throw e;
    return openExisting(d, path, posix);
  }
}
