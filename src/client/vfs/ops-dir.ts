/** opendir, readdir (and readdirplus), releasedir; and the path API's listing by name (readdirPage). */
import { FsError } from '../../common/errors/errno.js';
import type { ReaddirPage } from '../meta-client.js';
import { fst, type Attr } from '../types.js';
import { readAhead, rewind } from './dir-handles.js';
import { shown, staleIfGone } from './ops-attr.js';
import type { VfsState } from './vfs-state.js';

/** One piece of a listing: entries from the offset asked, each with its attributes. */
export interface DirPiece {
  names: string[];
  attrs: Attr[];
  /** The names run to the end of the listing (read whole by this handle). */
  end: boolean;
}

export async function opendir(s: VfsState, ino: number): Promise<number> {
  const self = (await s.entries.getattr(ino).catch(staleIfGone)).value;
  if (self.type !== fst.FileType.DIRECTORY) throw new FsError('ENOTDIR', `inode ${ino} is not a directory`);
  return s.dirs.open(self);
}

/**
 * Up to `max` entries starting at `offset` ("." is 0, ".." 1, then the children in name order).
 * Entry i's offset to continue after it is i + 1. Every entry read warms the entry cache.
 */
export async function readdir(s: VfsState, fh: number, offset: number, max: number): Promise<DirPiece> {
  const d = s.dirs.get(fh);
  if (offset === 0 && d.entries.length > 0) rewind(d);
  const first = Math.max(0, offset - 2);
  const reading = d.more;
  const asked = s.entries.changes;
  await readAhead(s.meta, d, first + max, s.listingsAhead);
  // Read to its end in pages of one change_seq, with no change of this mount meanwhile: the
  // directory is known whole (a `rm -r`, a `cp` into it, then need no lookups of its names).
  if (reading && !d.more && typeof d.seq === 'number' && s.entries.unchangedSince(d.ino, asked)) {
    s.entries.listings.listedEntries(d.ino, d.seq, d.entries);
    s.delegated?.seen(d.ino);
  }
  // Names a listing of this very read holds need no entry of their own in the cache (a lookup
  // finds them there): only their attributes are kept.
  const named = !d.more && d.seq === s.entries.listings.seqOf(d.ino);
  const names: string[] = [];
  const attrs: Attr[] = [];
  for (let i = offset; i < 2 && names.length < max; i++) {
    names.push(i === 0 ? '.' : '..');
    attrs.push(d.self);
  }
  let i = first;
  for (; i < d.entries.length && names.length < max; i++) {
    const e = d.entries[i]!;
    // Every entry keeps its place (the offsets count them); one without attributes (a master that
    // sent none) shows its inode and type only, and is not cached.
    if (e.attr) {
      if (named) s.entries.listedAttr(d.ino, e.attr);
      else s.entries.set(d.ino, e.name, e.attr);
    }
    names.push(e.name);
    attrs.push(e.attr ? shown(s, e.attr) : bareAttr(e.ino, e.type));
  }
  return { names, attrs, end: !d.more && i >= d.entries.length };
}

/**
 * One page of directory `ino` by name: the entries after `after` in name order (UTF-8 byte order),
 * at most `limit` (the master's page when 0 or absent, at most 10,000), without "." and "..". The
 * path API's listing (FstClient.readdir, readdirPage): a cursor is a name, not an offset, so no
 * handle is kept between pages. Every entry read warms the entry cache as a FUSE listing does
 * (unless this client changed the directory meanwhile), a first page that is the whole directory
 * makes it known whole, and attributes show open files' pending writes as getattr does.
 */
export async function readdirPage(s: VfsState, ino: number, page: { after?: string; limit?: number; withAttrs?: boolean }): Promise<ReaddirPage> {
  const asked = s.entries.changes;
  const got = await s.meta.readdir(ino, page).catch(staleIfGone);
  if (s.entries.unchangedSince(ino, asked)) {
    for (const e of got.entries) if (e.attr) s.entries.set(ino, e.name, e.attr);
    if ((page.after ?? '') === '' && !got.more) s.entries.listings.listedEntries(ino, got.changeSeq, got.entries);
  }
  const entries = got.entries.map((e) => (e.attr ? { ...e, attr: shown(s, e.attr) } : e));
  return { entries, more: got.more, changeSeq: got.changeSeq };
}

export function releasedir(s: VfsState, fh: number): void {
  s.dirs.release(fh);
}

const ZERO = { sec: 0, nsec: 0 };

function bareAttr(ino: number, type: fst.FileType): Attr {
  return { ino, type, mode: 0, uid: 0, gid: 0, nlink: 1, size: 0, atime: ZERO, mtime: ZERO, ctime: ZERO, rdev: 0, replication: 0, hasXattrs: false, changeSeq: 0 };
}
