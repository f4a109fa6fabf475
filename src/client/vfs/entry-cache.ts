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
 *
 * A TTL of 0 (FstClient's default: several clients, or gateway processes, must read what another
 * just wrote) trusts nothing: no name, attribute, absent xattr or listing is answered from here,
 * and no scan lists a directory ahead. What a delegation vouches for (delegated-dirs.ts) still
 * holds, as nobody else can change it.
 */
import { LRUCache } from 'lru-cache';
import { FsError } from '../../common/errors/errno.js';
import { isPlainName } from '../../common/ids.js';
import type { MetaClient } from '../meta-client.js';
import { fst, type Attr } from '../types.js';
import { DirListings } from './dir-listings.js';
import { ExactAttrs } from './exact-attrs.js';
import { sameAttrs } from './same-attrs.js';
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
  /** Directories being listed for their exact attributes (readExact). */
  private readonly exactReads = new Set<number>();
  /** Directories changed through this mount within the TTL. */
  private readonly recentlyChanged: LRUCache<number, true>;
  /** Counts changes made through this mount; per directory, the count at its last change. */
  private changeSeq = 0;
  private readonly changedAt = new Map<number, number>();
  /** What a directory missing from `changedAt` counts as (its entries were dropped to bound it). */
  private changedFloor = 0;
  /** Per inode, the count when its cached attributes last changed or were forgotten; and its floor. */
  private readonly attrChangedAt = new Map<number, number>();
  private attrChangedFloor = 0;

  /** The last attributes seen of each inode, however old, for names a listing vouches for. */
  private readonly lastAttrs: LRUCache<number, Attr>;
  /** Directories known whole (dir-listings.ts). */
  readonly listings: DirListings;
  /** Attributes known exactly in delegated directories (exact-attrs.ts). */
  readonly exact = new ExactAttrs();
  /**
   * Per inode: the directory it was last seen named in (where a change of its attributes asks for
   * a delegation). A hint only: a plain map, emptied when full (set for every entry of a listing,
   * where an LRU's upkeep would show).
   */
  private readonly parents = new Map<number, number>();
  private readonly maxParents: number;

  /** Whether anything is trusted at all (a TTL above 0). */
  private readonly trusting: boolean;

  constructor(private readonly meta: MetaClient, readonly ttlMs: number, maxEntries = 200_000) {
    this.trusting = ttlMs > 0;
    const ttl = Math.max(1, ttlMs);
    this.found = new LRUCache<number, number>({ max: 10_000, ttl });
    this.recentlyChanged = new LRUCache<number, true>({ max: 10_000, ttl });
    this.entries = new LRUCache<string, number>({ max: maxEntries, ttl });
    this.attrs = new LRUCache<number, Attr>({ max: maxEntries, ttl });
    this.lastAttrs = new LRUCache<number, Attr>({ max: maxEntries });
    this.maxParents = maxEntries;
    this.listings = new DirListings(ttlMs);
    this.absentXattrs = new LRUCache<number, Set<string>>({ max: maxEntries, ttl });
  }

  get ttlSec(): number {
    return this.ttlMs / 1000;
  }

  /** The attributes of `ino` if still trusted, with the TTL they have left. */
  cachedAttr(ino: number): Cached<Attr> | undefined {
    if (!this.trusting) return undefined;
    const value = this.attrs.get(ino);
    if (!value) return undefined;
    return { value, ttlSec: Math.max(0, this.attrs.getRemainingTTL(ino)) / 1000 };
  }

  /** stat by inode: from the cache while trusted, else from the master. */
  async getattr(ino: number): Promise<Cached<Attr>> {
    const cached = this.cachedAttr(ino);
    if (cached) return cached;
    const asked = this.changeSeq;
    const attr = await this.meta.getAttr(ino);
    // Changed through this mount meanwhile (the answer may be older than that change): the newer stands.
    const newer = this.attrsUnchangedSince(ino, asked) ? undefined : this.cachedAttr(ino);
    return newer ?? { value: this.told(attr), ttlSec: this.ttlSec };
  }

  /**
   * Attributes the master told now (a stat or a lookup, not a change's answer): cached, and for a
   * directory, its listing confirmed or dropped by its change_seq.
   */
  told(attr: Attr): Attr {
    if (attr.type === fst.FileType.DIRECTORY) this.listings.confirm(attr.ino, attr.changeSeq);
    return this.update(attr);
  }

  /** The inode `name` names in directory `parent` if still trusted. */
  cachedEntry(parent: number, name: string): number | undefined {
    if (!this.trusting) return undefined;
    return this.entries.get(entryKey(parent, name));
  }

  /**
   * The inode `name` names in `parent` as far as this mount knows (a cached name, or a listing held
   * even if no longer trusted): whose cached attributes a removal or rename of the name must drop.
   */
  knownIno(parent: number, name: string): number | undefined {
    return this.cachedEntry(parent, name) ?? this.listings.inoOf(parent, name);
  }

  /**
   * lookup: from the cache while both the name and the inode's attributes are trusted, else from
   * the master (ENOENT when absent). The TTL is the shorter of the two. A name a listing vouches for
   * may come with the last attributes seen, however old, and `attrTtlSec` 0 (ask before using
   * them), unless `lastSeen` refuses that inode (a file open here: its size must not go back).
   * `beforeAsking` may name something to wait for before the master is asked (a grant of `parent`).
   */
  async lookup(parent: number, name: string, lastSeen?: (ino: number) => boolean, beforeAsking?: () => Promise<void> | undefined): Promise<Cached<Attr>> {
    const known = this.knownNow(parent, name, lastSeen);
    if (known) return known;
    // Something under way may bring the answer here, each waited for once: a listing of the
    // directory in progress, then what the caller names (a grant of the directory).
    for (const wait of [() => this.scans.get(parent), beforeAsking]) {
      const waiting = wait?.();
      if (!waiting) continue;
      await waiting;
      const now = this.knownNow(parent, name, lastSeen);
      if (now) return now;
    }
    const asked = this.changeSeq;
    const attr = await this.meta.lookup(parent, name);
    if (this.unchangedSince(parent, asked)) {
      this.entries.set(entryKey(parent, name), attr.ino);
      this.told(attr);
      this.countFound(parent);
    }
    return { value: attr, ttlSec: this.ttlSec };
  }

  /** `lookup` as far as this mount knows now, without waiting (ENOENT from a listing known whole). */
  private knownNow(parent: number, name: string, lastSeen?: (ino: number) => boolean): Cached<Attr> | undefined {
    const hit = this.peekEntry(parent, name);
    if (hit) return hit;
    // A directory known whole answers for names it lacks, and for those it holds with the last
    // attributes seen (the kernel is told to ask for fresh ones before it uses them).
    // (Only for names a directory could hold: the master answers the others with their errno.)
    const listed = isPlainName(name) ? this.listings.find(parent, name) : undefined;
    if (listed?.ino === 'absent') throw new FsError('ENOENT', `no ${JSON.stringify(name)} in directory ${parent}`);
    if (listed) {
      const fresh = this.cachedAttr(listed.ino);
      if (fresh) return { value: fresh.value, ttlSec: Math.min(listed.ttlSec, fresh.ttlSec) };
      const last = lastSeen?.(listed.ino) === false ? undefined : this.lastAttrs.get(listed.ino);
      if (last) return { value: last, ttlSec: listed.ttlSec, attrTtlSec: 0 };
    }
    return undefined;
  }

  private peekEntry(parent: number, name: string): Cached<Attr> | undefined {
    if (!this.trusting) return undefined;
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
    // A directory this mount is changing (rm -r, a build writing its output) is not listed: every
    // change would leave the listing behind, and the lookups are part of the changes.
    if (!this.trusting || this.recentlyChanged.has(dir)) return;
    const found = (this.found.get(dir) ?? 0) + 1;
    this.found.set(dir, found);
    if (found < SCAN_AFTER_FOUND || this.scans.has(dir) || this.exactReads.has(dir)) return;
    this.found.delete(dir);
    const scan = this.listWhole(dir, SCAN_MAX_ENTRIES)
      // Only an optimisation: a failed listing leaves each name to its own lookup.
      .then(() => undefined, () => undefined)
      .finally(() => this.scans.delete(dir));
    this.scans.set(dir, scan);
  }

  /**
   * Lists directory `dir` with attributes (at most `max` entries) and caches every entry; when the
   * listing is whole and of one change_seq, the directory becomes known whole (dir-listings.ts).
   * `grant`: the token of the delegation this listing is read for, whose attributes are exact
   * (exact-attrs.ts): those of entries heard of meanwhile are left out.
   */
  async listWhole(dir: number, max: number, grant?: number): Promise<boolean> {
    const asked = this.changeSeq;
    const names: [string, number][] = [];
    const found: [string, Attr][] = [];
    let seq: number | undefined;
    let whole = true;
    for (let after = ''; ;) {
      const page = await this.meta.readdir(dir, { after, withAttrs: true });
      seq ??= page.changeSeq;
      if (page.changeSeq !== seq) whole = false;
      for (const e of page.entries) {
        names.push([e.name, e.ino]);
        if (e.attr) found.push([e.name, e.attr]);
      }
      const last = page.entries[page.entries.length - 1];
      if (!page.more || !last) break;
      if (names.length >= max) {
        whole = false;
        break;
      }
      after = last.name;
    }
    // A change this mount made meanwhile may be missing from it.
    if (!this.unchangedSince(dir, asked)) return false;
    for (const [name, attr] of found) this.set(dir, name, attr);
    if (!whole || seq === undefined) return false;
    this.listings.listed(dir, seq, names);
    if (grant !== undefined) this.exact.fill(dir, grant, found, (ino) => this.attrsUnchangedSince(ino, asked));
    return true;
  }

  /**
   * Reads the listing of delegated `dir` with its files' attributes, if its grant vouches for them
   * and they are not read yet (exact-attrs.ts); resolves whether the listing was whole.
   */
  async readExact(dir: number, token = this.exact.toRead(dir)): Promise<boolean> {
    if (token === undefined) return false;
    let whole = false;
    // No scan of the directory starts meanwhile (countFound): this listing brings every name too.
    this.exactReads.add(dir);
    try {
      whole = await this.listWhole(dir, 100_000, token);
      return whole;
    } finally {
      this.exactReads.delete(dir);
      if (!whole) this.exact.unread(dir, token);
    }
  }

  /** The directory `ino` was last seen named in, if remembered. */
  parentOf(ino: number): number | undefined {
    return this.parents.get(ino);
  }

  /** The last attributes seen of `ino`, however old. */
  lastAttr(ino: number): Attr | undefined {
    return this.lastAttrs.get(ino);
  }

  /** `name` in `parent` names the inode `attr` describes (fresh from the master or a change made here). */
  set(parent: number, name: string, attr: Attr): void {
    this.entries.set(entryKey(parent, name), attr.ino);
    this.listedAttr(parent, attr);
  }

  /**
   * The attributes of an inode named in the listing of `parent` held in `listings` (which answers
   * lookups of the name): only the attributes are cached.
   */
  listedAttr(parent: number, attr: Attr): void {
    if (this.parents.size >= this.maxParents) this.parents.clear();
    this.parents.set(attr.ino, parent);
    this.update(attr);
  }

  /** New attributes of an inode, whatever names it has; returns them. */
  update(attr: Attr): Attr {
    const last = this.lastAttrs.get(attr.ino);
    // The same attributes again (a listing or lookup refreshing them) change nothing a listing
    // read before could show wrongly: only a difference counts (attrsUnchangedSince). The object
    // already cached stays (renewed): a tree walked again then leaves only short-lived garbage,
    // not a new generation of cached objects for the old-space collector.
    if (last && sameAttrs(last, attr)) {
      this.attrs.set(attr.ino, last);
      return attr;
    }
    this.attrs.set(attr.ino, attr);
    this.lastAttrs.set(attr.ino, attr);
    this.exact.heard(attr);
    this.noteAttrChange(attr.ino);
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
      this.forgetAttr(dir);
      this.listings.forget(dir);
      return;
    }
    const cached = this.attrs.get(dirAttr.ino);
    if (cached && olderCtime(dirAttr, cached)) this.forgetAttr(dirAttr.ino);
    else this.update(dirAttr);
  }

  /**
   * A name was added to `dir` through this mount (create, mkdir, symlink, link): the name is known,
   * the directory's attributes are the master's answer (`dirAttr`), and a listing of it follows.
   */
  added(dir: number, name: string, attr: Attr, dirAttr: Attr | undefined): void {
    this.dirChanged(dir, dirAttr);
    this.set(dir, name, attr);
    this.listings.changed(dir, dirAttr?.changeSeq, (names) => {
      names.set(name, attr.ino);
      return true;
    });
    // A directory made here is empty: known whole from the start.
    if (attr.type === fst.FileType.DIRECTORY && attr.nlink === 2) this.listings.created(attr.ino, attr.changeSeq);
  }

  /** A name was removed from `dir` through this mount (unlink, rmdir); `dirAttr` undefined after a failure. */
  removed(dir: number, name: string, dirAttr: Attr | undefined): void {
    this.forgetEntry(dir, name);
    this.dirChanged(dir, dirAttr);
    this.listings.changed(dir, dirAttr?.changeSeq, (names) => names.delete(name) || true);
  }

  /** A name moved through this mount (rename); the attributes undefined after a failure. */
  renamed(dir: number, name: string, newDir: number, newName: string, dirAttr: Attr | undefined, newDirAttr: Attr | undefined): void {
    const ino = this.listings.inoOf(dir, name) ?? this.cachedEntry(dir, name);
    this.forgetEntry(dir, name);
    this.forgetEntry(newDir, newName);
    this.dirChanged(dir, dirAttr);
    const move = (names: Map<string, number>): boolean => {
      names.delete(name);
      if (ino === undefined) return false;
      names.set(newName, ino);
      return true;
    };
    if (newDir === dir) {
      this.listings.changed(dir, dirAttr?.changeSeq, move);
      return;
    }
    this.dirChanged(newDir, newDirAttr);
    this.listings.changed(dir, dirAttr?.changeSeq, (names) => names.delete(name) || true);
    this.listings.changed(newDir, newDirAttr?.changeSeq, (names) => {
      if (ino === undefined) return false;
      names.set(newName, ino);
      return true;
    });
  }

  /** Changes made through this mount so far (for `unchangedSince`). */
  get changes(): number {
    return this.changeSeq;
  }

  /** Whether directory `dir` changed through this mount since `changeSeq` was `seq`. */
  unchangedSince(dir: number, seq: number): boolean {
    return (this.changedAt.get(dir) ?? this.changedFloor) <= seq;
  }

  /**
   * Whether the attributes cached of `ino` stayed as they were since `changeSeq` was `seq` (a
   * listing asked for then still tells them right, as far as this mount knows).
   */
  attrsUnchangedSince(ino: number, seq: number): boolean {
    return (this.attrChangedAt.get(ino) ?? this.attrChangedFloor) <= seq;
  }

  private noteAttrChange(ino: number): void {
    if (this.attrChangedAt.size >= 200_000) {
      this.attrChangedAt.clear();
      this.attrChangedFloor = this.changeSeq + 1;
    }
    this.attrChangedAt.set(ino, ++this.changeSeq);
  }

  private noteChange(dir: number): void {
    this.recentlyChanged.set(dir, true);
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
    this.exact.forget(ino);
    this.noteAttrChange(ino);
  }

  isXattrAbsent(ino: number, name: string): boolean {
    if (!this.trusting) return false;
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
    this.lastAttrs.clear();
    this.absentXattrs.clear();
    this.listings.clear();
    this.exact.clear();
    this.parents.clear();
  }
}

function olderCtime(a: Attr, b: Attr): boolean {
  return a.ctime.sec < b.ctime.sec || (a.ctime.sec === b.ctime.sec && a.ctime.nsec < b.ctime.nsec);
}

