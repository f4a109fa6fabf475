/**
 * Operations of the path API made of several Vfs calls: listing every page of a directory,
 * mkdir -p, rm -r, and the time arguments of utimes. Kept apart from FstClient so that it stays a
 * thin table of one-call operations. Everything goes through the client's Vfs, so its caches see
 * each change.
 */
import { FsError } from '../common/errors/errno.js';
import { toFsError } from '../common/errors/to-errno.js';
import { kindOf, toFileStat, type FileKind, type FileStat } from './file-stat.js';
import type { AttrChanges } from './meta-client.js';
import { parsePath, type PathResolver } from './path-resolver.js';
import { fst, timespecOfMs, type Attr, type DirEntry, type Timespec } from './types.js';
import type { OpContext } from './vfs/op-context.js';
import type { Vfs } from './vfs/vfs.js';

/** One directory entry of FstClient.readdir; `stat` is there when attributes were asked for. */
export interface DirEntryInfo {
  name: string;
  ino: number;
  kind: FileKind;
  stat?: FileStat;
}

/** A time for utimes: a Date, Unix milliseconds, an exact Timespec, or the master's clock. */
export type TimeInput = Date | number | Timespec | 'now';

/** What the multi-call operations work with: the client's Vfs, its resolver, and who calls. */
export interface TreeDeps {
  vfs: Vfs;
  resolver: PathResolver;
  ctx: OpContext;
  /** The client's root inode. */
  rootIno: number;
}

export function entryInfo(e: DirEntry): DirEntryInfo {
  const info: DirEntryInfo = { name: e.name, ino: e.ino, kind: kindOf(e.type) };
  if (e.attr) info.stat = toFileStat(e.attr);
  return info;
}

/** Every entry of directory `ino`, following the pages with `after` while `more`. */
export async function listDirEntries(vfs: Vfs, ino: number, withAttrs: boolean): Promise<DirEntry[]> {
  const all: DirEntry[] = [];
  let after = '';
  for (;;) {
    const page = await vfs.readdirPage(ino, { after, withAttrs });
    all.push(...page.entries);
    const last = page.entries[page.entries.length - 1];
    if (!page.more || !last) return all;
    after = last.name;
  }
}

/** Creates the missing directories of `path`; returns the last one. */
export async function mkdirp(d: TreeDeps, path: string, mode: number): Promise<Attr> {
  const names = parsePath(path);
  let dir = names.length === 0 ? (await d.vfs.getattr(d.rootIno)).value : undefined;
  for (let i = 0; i < names.length; i++) {
    const parentIno = dir?.ino ?? d.rootIno;
    const name = names[i]!;
    let found: Attr;
    try {
      found = (await d.vfs.lookup(parentIno, name)).value;
    } catch (e) {
      if (toFsError(e).code !== 'ENOENT') throw e;
      try {
        found = await d.vfs.mkdir(parentIno, name, mode, d.ctx);
      } catch (e2) {
        // Someone else created it meanwhile: use theirs if it is a directory.
        if (toFsError(e2).code !== 'EEXIST') throw e2;
        found = (await d.vfs.lookup(parentIno, name)).value;
      }
    }
    // An existing symlink to a directory is fine, as with mkdir -p.
    if (found.type === fst.FileType.SYMLINK) found = await d.resolver.walk(names.slice(0, i + 1), true);
    if (found.type !== fst.FileType.DIRECTORY) {
      throw new FsError(i === names.length - 1 ? 'EEXIST' : 'ENOTDIR', `'/${names.slice(0, i + 1).join('/')}' exists and is not a directory`);
    }
    dir = found;
  }
  return dir!;
}

/**
 * rm -r of directory `ino` at `path`: children first (depth first), then the directory. Symlinks
 * are removed, never followed.
 */
export async function removeTree(d: TreeDeps, path: string, ino: number): Promise<void> {
  for (const e of await listDirEntries(d.vfs, ino, false)) {
    const childPath = path === '/' ? `/${e.name}` : `${path}/${e.name}`;
    if (e.type === fst.FileType.DIRECTORY) await removeTree(d, childPath, e.ino);
    else await d.vfs.unlink(ino, e.name, d.ctx);
  }
  const { dir, name } = await d.resolver.resolveParent(path);
  await d.vfs.rmdir(dir.ino, name, d.ctx);
}

function toTime(t: TimeInput): Timespec | 'now' {
  if (t === 'now') return 'now';
  if (t instanceof Date) return timespecOfMs(t.getTime());
  if (typeof t === 'number') return timespecOfMs(t);
  return t;
}

export function toTimeChange(atime: TimeInput | undefined, mtime: TimeInput | undefined): AttrChanges {
  const c: AttrChanges = {};
  if (atime !== undefined) c.atime = toTime(atime);
  if (mtime !== undefined) c.mtime = toTime(mtime);
  return c;
}
