/**
 * The metadata half of open(2): find or create the inode, check it is a regular file, apply
 * O_TRUNC. Kept apart from FileHandle, which only deals with an inode already open.
 */
import { FsError } from '../common/errors/errno.js';
import { toFsError } from '../common/errors/to-errno.js';
import { accessMode, type OpenFlags } from './file-handle.js';
import type { MetaClient } from './meta-client.js';
import type { PathResolver } from './path-resolver.js';
import { fst, type Attr } from './types.js';

/** The attributes of the regular file `path` names, created (O_CREAT) and cut (O_TRUNC) as asked. */
export async function openAttr(meta: MetaClient, resolver: PathResolver, path: string, flags: OpenFlags, mode: number): Promise<Attr> {
  let attr = flags.create ? await create(meta, resolver, path, mode, flags.exclusive ?? false) : await resolver.resolve(path, true);
  if (attr.type === fst.FileType.DIRECTORY) throw new FsError('EISDIR', 'is a directory');
  if (attr.type !== fst.FileType.REGULAR) throw new FsError('EINVAL', 'not a regular file');
  if (flags.truncate && accessMode(flags).writable && attr.size > 0) attr = await meta.setAttr(attr.ino, { size: 0 });
  return attr;
}

async function create(meta: MetaClient, resolver: PathResolver, path: string, mode: number, exclusive: boolean): Promise<Attr> {
  const { dir, name } = await resolver.resolveParent(path);
  try {
    return (await meta.mknod(dir.ino, name, mode, { exclusive })).attr;
  } catch (e) {
    // The name exists but is not a regular file (a symlink to one, a directory): open what it names,
    // and let the type check above refuse a directory.
    if (exclusive || toFsError(e).code !== 'EEXIST') throw e;
    return resolver.resolve(path, true);
  }
}
