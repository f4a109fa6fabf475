/**
 * Operations of the path API made of several master calls: listing every page of a directory,
 * mkdir -p, rm -r, and the time arguments of utimes. Kept apart from FstClient so that it stays a
 * thin table of one-call operations.
 */
import { FsError } from '../common/errors/errno.js';
import { toFsError } from '../common/errors/to-errno.js';
import { kindOf, toFileStat, type FileKind, type FileStat } from './file-stat.js';
import type { AttrChanges, MetaClient } from './meta-client.js';
import { parsePath, type PathResolver } from './path-resolver.js';
import { fst, timespecOfMs, type Attr, type DirEntry, type Timespec } from './types.js';

/** One directory entry of FstClient.readdir; `stat` is there when attributes were asked for. */
export interface DirEntryInfo {
  name: string;
  ino: number;
  kind: FileKind;
  stat?: FileStat;
}

/** A time for utimes: a Date, Unix milliseconds, an exact Timespec, or the master's clock. */
export type TimeInput = Date | number | Timespec | 'now';

/** Every entry of directory `ino`, following the pages with `after` while `more`. */
export async function listDirEntries(meta: MetaClient, ino: number, withAttrs: boolean, maxEntries = Infinity): Promise<DirEntry[]> {
  const all: DirEntry[] = [];
  let after = '';
  for (;;) {
    const page = await meta.readdir(ino, { after, withAttrs });
    all.push(...page.entries);
    const last = page.entries[page.entries.length - 1];
    if (!page.more || !last || all.length >= maxEntries) return all;
    after = last.name;
  }
}

export function entryInfo(e: DirEntry): DirEntryInfo {
  const info: DirEntryInfo = { name: e.name, ino: e.ino, kind: kindOf(e.type) };
  if (e.attr) info.stat = toFileStat(e.attr);
  return info;
}

export async function listDir(meta: MetaClient, ino: number, withAttrs: boolean): Promise<DirEntryInfo[]> {
  return (await listDirEntries(meta, ino, withAttrs)).map(entryInfo);
}

/** Creates the missing directories of `path`; returns the last one. */
export async function mkdirp(meta: MetaClient, resolver: PathResolver, path: string, mode: number): Promise<Attr> {
  const names = parsePath(path);
  let dir = names.length === 0 ? await meta.getAttr(meta.rootIno) : undefined;
  for (let i = 0; i < names.length; i++) {
    const parentIno = dir?.ino ?? meta.rootIno;
    const name = names[i]!;
    let found: Attr;
    try {
      found = await meta.lookup(parentIno, name);
    } catch (e) {
      if (toFsError(e).code !== 'ENOENT') throw e;
      try {
        found = (await meta.mkdir(parentIno, name, mode)).attr;
      } catch (e2) {
        // Someone else created it meanwhile: use theirs if it is a directory.
        if (toFsError(e2).code !== 'EEXIST') throw e2;
        found = await meta.lookup(parentIno, name);
      }
    }
    // An existing symlink to a directory is fine, as with mkdir -p.
    if (found.type === fst.FileType.SYMLINK) found = await resolver.walk(names.slice(0, i + 1), true);
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
export async function removeTree(meta: MetaClient, path: string, ino: number, resolver: PathResolver): Promise<void> {
  for (const e of await listDirEntries(meta, ino, false)) {
    const childPath = path === '/' ? `/${e.name}` : `${path}/${e.name}`;
    if (e.type === fst.FileType.DIRECTORY) await removeTree(meta, childPath, e.ino, resolver);
    else await meta.unlink(ino, e.name);
  }
  const { dir, name } = await resolver.resolveParent(path);
  await meta.rmdir(dir.ino, name);
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
