/**
 * Paths to inodes, and inodes to attributes, with a short TTL (the kernel's entry timeout): FUSE's
 * path-based API hands over whole paths, and most of them repeat (a `stat` after a `lookup`, every
 * `getattr` of an `ls -l`). Each component is looked up from its parent's cached entry, so a deep
 * path costs one Lookup when only its last component is unknown.
 *
 * Attributes are kept per inode, not per path: a hard link's new nlink, a commit's new size, a
 * chmod through another name — one update shows through every path at once. Changes made through
 * this mount update or drop entries at once; changes made by other clients show after at most the
 * TTL (close-to-open consistency is kept by `open`, which always revalidates). A directory changed
 * through this mount keeps its path: the master answers every mutation with the directory's new
 * attributes (`dirChanged`), so the `stat` that follows a create costs no round trip.
 */
import { LRUCache } from 'lru-cache';
import { FsError } from '../../common/errors/errno.js';
import { ROOT_INO } from '../../common/ids.js';
import type { MetaClient } from '../meta-client.js';
import { parsePath } from '../path-resolver.js';
import { listDirEntries } from '../tree-ops.js';
import { fst, type Attr } from '../types.js';

/**
 * Names found by their own lookup in one directory, within the TTL, after which the directory is
 * listed with attributes (a scan: `stat *`, `find`, a build checking its files): one Readdir then
 * answers the rest of the scan.
 */
const SCAN_AFTER_FOUND = 4;
/** Most entries such a listing fetches (a huge directory is listed in part). */
const SCAN_MAX_ENTRIES = 10_000;

/** Marks an inode known to have no extended attributes (a name no xattr can have). */
const ALL = '\0all';

export class EntryCache {
  private readonly paths: LRUCache<string, number>;
  private readonly attrs: LRUCache<number, Attr>;
  /** Extended attributes known to be absent, per inode (the kernel asks for security.capability on every first write). */
  private readonly absentXattrs: LRUCache<number, Set<string>>;
  /** Per directory inode: names recently found by a lookup of their own. */
  private readonly found: LRUCache<number, number>;
  /** Per directory inode: its listing in progress. */
  private readonly scans = new Map<number, Promise<void>>();

  constructor(private readonly meta: MetaClient, ttlMs: number, maxEntries = 200_000) {
    const ttl = Math.max(1, ttlMs);
    this.found = new LRUCache<number, number>({ max: 10_000, ttl });
    this.paths = new LRUCache<string, number>({ max: maxEntries, ttl });
    this.attrs = new LRUCache<number, Attr>({ max: maxEntries, ttl });
    this.absentXattrs = new LRUCache<number, Set<string>>({ max: maxEntries, ttl });
  }

  isXattrAbsent(ino: number, name: string): boolean {
    const absent = this.absentXattrs.get(ino);
    return absent !== undefined && (absent.has(name) || absent.has(ALL));
  }

  /** A file this mount just created has no extended attributes at all. */
  noteNoXattrs(ino: number): void {
    this.absentXattrs.set(ino, new Set([ALL]));
  }

  noteXattrAbsent(ino: number, name: string): void {
    const set = this.absentXattrs.get(ino) ?? new Set<string>();
    set.add(name);
    this.absentXattrs.set(ino, set);
  }

  /** The inode's extended attributes changed here. */
  forgetXattrs(ino: number): void {
    this.absentXattrs.delete(ino);
  }

  /** The attributes of `path` (never following a final symlink: the kernel resolves links itself). */
  async resolve(path: string, fresh = false): Promise<Attr> {
    const names = parsePath(path);
    const key = '/' + names.join('/');
    if (!fresh) {
      const ino = this.paths.get(key);
      const attr = ino === undefined ? undefined : this.attrs.get(ino);
      if (attr) return attr;
    }
    if (names.length === 0) return this.remember('/', await this.meta.getAttr(ROOT_INO));
    const parentPath = '/' + names.slice(0, -1).join('/');
    const parent = await this.resolve(parentPath);
    if (parent.type !== fst.FileType.DIRECTORY) throw new FsError('ENOTDIR', `${parentPath} is not a directory`);
    if (!fresh) {
      // A listing of the directory under way may bring this name.
      await this.scans.get(parent.ino);
      const listed = this.peek(key);
      if (listed) return listed;
    }
    const attr = this.remember(key, await this.meta.lookup(parent.ino, names[names.length - 1]!));
    if (!fresh) this.countFound(parent.ino, parentPath);
    return attr;
  }

  /**
   * Counts a name found in directory `dirIno` by its own lookup; at the SCAN_AFTER_FOUND-th within
   * the TTL, lists the directory with attributes and caches every entry, for the lookups that
   * follow. Names not found do not count: creating files looks up names that do not exist yet.
   */
  private countFound(dirIno: number, dirPath: string): void {
    const found = (this.found.get(dirIno) ?? 0) + 1;
    this.found.set(dirIno, found);
    if (found < SCAN_AFTER_FOUND || this.scans.has(dirIno)) return;
    this.found.delete(dirIno);
    const base = dirPath === '/' ? '' : dirPath;
    const scan = listDirEntries(this.meta, dirIno, true, SCAN_MAX_ENTRIES)
      .then((entries) => {
        for (const e of entries) if (e.attr) this.remember(`${base}/${e.name}`, e.attr);
      })
      // Only an optimisation: a failed listing leaves each name to its own lookup.
      .catch(() => undefined)
      .finally(() => this.scans.delete(dirIno));
    this.scans.set(dirIno, scan);
  }

  /** The directory holding `path`'s last component, and that component. */
  async parentOf(path: string): Promise<{ dir: Attr; name: string; dirPath: string }> {
    const names = parsePath(path);
    const name = names.pop();
    if (name === undefined) throw new FsError('EBUSY', 'the root has no parent');
    const dirPath = '/' + names.join('/');
    const dir = await this.resolve(dirPath);
    if (dir.type !== fst.FileType.DIRECTORY) throw new FsError('ENOTDIR', `${dirPath} is not a directory`);
    return { dir, name, dirPath };
  }

  private remember(key: string, attr: Attr): Attr {
    this.paths.set(key, attr.ino);
    this.attrs.set(attr.ino, attr);
    return attr;
  }

  /** The attributes of `path` if cached now (no request to the master). */
  peek(path: string): Attr | undefined {
    const ino = this.paths.get(normalize(path));
    return ino === undefined ? undefined : this.attrs.get(ino);
  }

  /**
   * A name was added to directory `dirPath`: the name is known, and the directory's attributes are
   * `dirAttr` (the master's answer; see dirChanged).
   */
  added(dirPath: string, path: string, attr: Attr, dirAttr: Attr | undefined): void {
    this.dirChanged(dirPath, dirAttr);
    this.set(path, attr);
  }

  /**
   * Directory `dirPath` changed through this mount and the master answered with its attributes as
   * committed: they replace the cached ones, and the path keeps its inode. Without them (a failed or
   * interrupted call, a master predating them) the path is forgotten and the next use asks again.
   * An answer with an older ctime than the cached attributes lost a race with another change
   * answered first (or a clock moved back): which one is newer is unknown, so the inode is dropped.
   */
  dirChanged(dirPath: string, dirAttr: Attr | undefined): void {
    if (!dirAttr) {
      this.forget(dirPath);
      return;
    }
    const cached = this.attrs.get(dirAttr.ino);
    if (cached && olderCtime(dirAttr, cached)) this.attrs.delete(dirAttr.ino);
    else this.update(dirAttr);
  }

  /** Records that `path` names the inode `attr` describes. */
  set(path: string, attr: Attr): void {
    this.remember(normalize(path), attr);
  }

  /** An inode's attributes if still trusted. */
  cachedAttr(ino: number): Attr | undefined {
    return this.attrs.get(ino);
  }

  /** New attributes of an inode, whatever names it has. */
  update(attr: Attr): void {
    this.attrs.set(attr.ino, attr);
  }

  /** Forgets one path (it is gone or names something else now). */
  forget(path: string): void {
    this.paths.delete(normalize(path));
  }

  /** Forgets a path and everything below it (a directory renamed or removed). */
  forgetTree(path: string): void {
    const p = normalize(path);
    const prefix = p === '/' ? '/' : p + '/';
    for (const key of [...this.paths.keys()]) if (key === p || key.startsWith(prefix)) this.paths.delete(key);
  }

  /** Forgets an inode's attributes (its nlink, ctime or size changed): every name re-asks. */
  forgetIno(ino: number): void {
    this.attrs.delete(ino);
  }

  clear(): void {
    this.paths.clear();
    this.attrs.clear();
  }
}

function olderCtime(a: Attr, b: Attr): boolean {
  return a.ctime.sec < b.ctime.sec || (a.ctime.sec === b.ctime.sec && a.ctime.nsec < b.ctime.nsec);
}

function normalize(path: string): string {
  return '/' + parsePath(path).join('/');
}
