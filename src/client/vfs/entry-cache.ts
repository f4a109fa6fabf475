/**
 * What fst-mount knows of the namespace between master calls: names in directories, (parent inode,
 * name) -> inode, and inodes' attributes, each trusted for the entry TTL from when the master said
 * it. The kernel caches both too, for as long as each answer tells it: an answer served from here
 * carries only the TTL it has left, so nothing is trusted longer than one TTL after the master said
 * it, whichever cache holds it.
 *
 * Changes made through this mount update the caches at once (the master answers every mutation
 * with the attributes it committed); changes made by other clients show after at most the TTL, and
 * `open` always asks the master (close-to-open consistency).
 *
 * A scan (`stat *`, `find`, a build checking its files) looks up many names of one directory: after
 * SCAN_AFTER_FOUND names found by lookups of their own within the TTL, the directory is listed with
 * attributes, and the rest of the scan is answered from the listing.
 *
 * An answer about a directory (a lookup, a listing) that was asked for before a change this mount
 * made to that directory, and arrives after it, may describe the directory before the change: it is
 * not cached (each change counts in `changeSeq`).
 */
import { LRUCache } from 'lru-cache';
import type { MetaClient } from '../meta-client.js';
import { listDirEntries } from '../tree-ops.js';
import type { Attr } from '../types.js';
import type { Timed } from './op-context.js';

const SCAN_AFTER_FOUND = 4;
/** Most entries such a listing fetches (a huge directory is listed in part). */
const SCAN_MAX_ENTRIES = 10_000;

/** Marks an inode known to have no extended attributes (a name no xattr can have). */
const ALL = '\0all';

/** A cached answer and how many seconds of its TTL are left (what the kernel may be told). */
export type Cached<T> = Timed<T>;

const entryKey = (parent: number, name: string): string => `${parent}/${name}`;

export class EntryCache {
  private readonly entries: LRUCache<string, number>;
  private readonly attrs: LRUCache<number, Attr>;
  private readonly absentXattrs: LRUCache<number, Set<string>>;
  /** Per directory inode: names recently found by a lookup of their own. */
  private readonly found: LRUCache<number, number>;
  /** Per directory inode: its listing in progress. */
  private readonly scans = new Map<number, Promise<void>>();
  /** Counts changes made through this mount; per directory, the count at its last change. */
  private changeSeq = 0;
  private readonly changedAt = new Map<number, number>();
  /** What a directory missing from `changedAt` counts as (its entries were dropped to bound it). */
  private changedFloor = 0;

  constructor(private readonly meta: MetaClient, readonly ttlMs: number, maxEntries = 200_000) {
    const ttl = Math.max(1, ttlMs);
    this.found = new LRUCache<number, number>({ max: 10_000, ttl });
    this.entries = new LRUCache<string, number>({ max: maxEntries, ttl });
    this.attrs = new LRUCache<number, Attr>({ max: maxEntries, ttl });
    this.absentXattrs = new LRUCache<number, Set<string>>({ max: maxEntries, ttl });
  }

  get ttlSec(): number {
    return this.ttlMs / 1000;
  }

  /** The attributes of `ino` if still trusted, with the TTL they have left. */
  cachedAttr(ino: number): Cached<Attr> | undefined {
    const value = this.attrs.get(ino);
    if (!value) return undefined;
    return { value, ttlSec: Math.max(0, this.attrs.getRemainingTTL(ino)) / 1000 };
  }

  /** stat by inode: from the cache while trusted, else from the master. */
  async getattr(ino: number): Promise<Cached<Attr>> {
    const cached = this.cachedAttr(ino);
    if (cached) return cached;
    return { value: this.update(await this.meta.getAttr(ino)), ttlSec: this.ttlSec };
  }

  /** The inode `name` names in directory `parent` if still trusted. */
  cachedEntry(parent: number, name: string): number | undefined {
    return this.entries.get(entryKey(parent, name));
  }

  /**
   * lookup: from the cache while both the name and the inode's attributes are trusted, else from
   * the master (ENOENT when absent). The TTL is the shorter of the two.
   */
  async lookup(parent: number, name: string): Promise<Cached<Attr>> {
    const hit = this.peekEntry(parent, name);
    if (hit) return hit;
    // A listing of the directory under way may bring this name.
    const scan = this.scans.get(parent);
    if (scan) {
      await scan;
      const listed = this.peekEntry(parent, name);
      if (listed) return listed;
    }
    const asked = this.changeSeq;
    const attr = await this.meta.lookup(parent, name);
    if (this.unchangedSince(parent, asked)) {
      this.set(parent, name, attr);
      this.countFound(parent);
    }
    return { value: attr, ttlSec: this.ttlSec };
  }

  private peekEntry(parent: number, name: string): Cached<Attr> | undefined {
    const key = entryKey(parent, name);
    const ino = this.entries.get(key);
    if (ino === undefined) return undefined;
    const attr = this.cachedAttr(ino);
    if (!attr) return undefined;
    return { value: attr.value, ttlSec: Math.min(attr.ttlSec, Math.max(0, this.entries.getRemainingTTL(key)) / 1000) };
  }

  /**
   * Counts a name found in directory `dir` by its own lookup; at the SCAN_AFTER_FOUND-th within the
   * TTL, lists the directory with attributes and caches every entry. Names not found do not count:
   * creating files looks up names that do not exist yet.
   */
  private countFound(dir: number): void {
    const found = (this.found.get(dir) ?? 0) + 1;
    this.found.set(dir, found);
    if (found < SCAN_AFTER_FOUND || this.scans.has(dir)) return;
    this.found.delete(dir);
    const asked = this.changeSeq;
    const scan = listDirEntries(this.meta, dir, true, SCAN_MAX_ENTRIES)
      .then((entries) => {
        if (!this.unchangedSince(dir, asked)) return;
        for (const e of entries) if (e.attr) this.set(dir, e.name, e.attr);
      })
      // Only an optimisation: a failed listing leaves each name to its own lookup.
      .catch(() => undefined)
      .finally(() => this.scans.delete(dir));
    this.scans.set(dir, scan);
  }

  /** `name` in `parent` names the inode `attr` describes (fresh from the master or a change made here). */
  set(parent: number, name: string, attr: Attr): void {
    this.entries.set(entryKey(parent, name), attr.ino);
    this.attrs.set(attr.ino, attr);
  }

  /** New attributes of an inode, whatever names it has; returns them. */
  update(attr: Attr): Attr {
    this.attrs.set(attr.ino, attr);
    return attr;
  }

  /**
   * Directory `dir` changed through this mount and the master answered with its attributes as
   * committed: they replace the cached ones. Without them (a failed or interrupted call) the
   * directory's attributes are forgotten and the next use asks again. An answer with an older ctime
   * than the cached attributes lost a race with another change answered first (or a clock moved
   * back): which one is newer is unknown, so the inode is dropped.
   */
  dirChanged(dir: number, dirAttr: Attr | undefined): void {
    this.noteChange(dir);
    if (!dirAttr) {
      this.attrs.delete(dir);
      return;
    }
    const cached = this.attrs.get(dirAttr.ino);
    if (cached && olderCtime(dirAttr, cached)) this.attrs.delete(dirAttr.ino);
    else this.attrs.set(dirAttr.ino, dirAttr);
  }

  /** Whether directory `dir` changed through this mount since `changeSeq` was `seq`. */
  unchangedSince(dir: number, seq: number): boolean {
    return (this.changedAt.get(dir) ?? this.changedFloor) <= seq;
  }

  private noteChange(dir: number): void {
    if (this.changedAt.size >= 100_000) {
      // Bounded: every directory then counts as changed now (answers in flight are not cached).
      this.changedAt.clear();
      this.changedFloor = this.changeSeq + 1;
    }
    this.changedAt.set(dir, ++this.changeSeq);
  }

  /** Forgets one name (it is gone or names something else now). */
  forgetEntry(parent: number, name: string): void {
    this.entries.delete(entryKey(parent, name));
  }

  /** Forgets an inode's attributes (its nlink, ctime or size changed): the next stat asks. */
  forgetAttr(ino: number): void {
    this.attrs.delete(ino);
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

  clear(): void {
    this.entries.clear();
    this.attrs.clear();
    this.absentXattrs.clear();
  }
}

function olderCtime(a: Attr, b: Attr): boolean {
  return a.ctime.sec < b.ctime.sec || (a.ctime.sec === b.ctime.sec && a.ctime.nsec < b.ctime.nsec);
}
