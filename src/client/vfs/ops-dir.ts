/** readdir, mkdir, rmdir. */
import { listDirEntries } from '../tree-ops.js';
import { fst, type Attr } from '../types.js';
import { callerOf, type OpContext } from './op-context.js';
import type { VfsState } from './vfs-state.js';
import { FsError } from '../../common/errors/errno.js';

export interface DirListing {
  names: string[];
  attrs: Attr[];
}

/** Every entry with its attributes (readdirplus): the attributes warm the entry cache for `ls -l`. */
export async function readdir(s: VfsState, path: string): Promise<DirListing> {
  const dir = await s.entries.resolve(path);
  if (dir.type !== fst.FileType.DIRECTORY) throw new FsError('ENOTDIR', `${path} is not a directory`);
  const entries = await listDirEntries(s.meta, dir.ino, true);
  const names: string[] = ['.', '..'];
  const attrs: Attr[] = [dir, dir];
  const base = path === '/' ? '' : path;
  for (const e of entries) {
    if (!e.attr) continue;
    const attr = s.files.get(e.attr.ino)?.view(e.attr) ?? e.attr;
    names.push(e.name);
    attrs.push(attr);
    s.entries.set(`${base}/${e.name}`, e.attr);
  }
  return { names, attrs };
}

export async function mkdir(s: VfsState, path: string, mode: number, ctx: OpContext): Promise<Attr> {
  const { dir, name, dirPath } = await s.entries.parentOf(path);
  const { attr, parentAttr } = await s.meta.mkdir(dir.ino, name, mode, { caller: callerOf(ctx) });
  s.entries.added(dirPath, path, attr, parentAttr);
  return attr;
}

export async function rmdir(s: VfsState, path: string, ctx: OpContext): Promise<void> {
  const { dir, name, dirPath } = await s.entries.parentOf(path);
  let dirAttr: Attr | undefined;
  try {
    dirAttr = (await s.meta.rmdir(dir.ino, name, { caller: callerOf(ctx) })).parentAttr;
  } finally {
    s.entries.forgetTree(path);
    // After a failure nothing is known of the directory: it is forgotten.
    s.entries.dirChanged(dirPath, dirAttr);
  }
}
