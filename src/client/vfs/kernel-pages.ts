/**
 * Whether the kernel may keep a file's cached pages when it is opened again (FOPEN_KEEP_CACHE).
 * Without it the kernel drops them at every open, so a file read twice (a second `cat`, a build
 * reading the same headers) pays the network twice.
 *
 * The rule keeps close-to-open consistency: open always asks the master for the file's attributes,
 * and the pages are kept only when the data has not changed since an open that recorded it:
 * - a file's data is named by its size, mtime and ctime: every change of data moves ctime, which
 *   the master stamps in nanoseconds that never go backwards, and no caller can set;
 * - an open records that name only when no other descriptor of this mount has the file open (an
 *   older descriptor may still fill pages with the data it saw);
 * - a change of data through this mount (a commit, a truncate) forgets the record: the kernel's
 *   pages then hold this mount's writes, but another mount may have written in between.
 * So the first open after any change drops the pages, and every open after it keeps them.
 */
import { LRUCache } from 'lru-cache';
import type { Attr } from '../types.js';
import { sameData } from './open-files.js';

/** Records kept; the least recently opened go first (an inode without a record is only read again). */
const MAX_RECORDS = 100_000;

/** What another descriptor of the file on this mount sees, at the time of an open. */
export interface OpenElsewhere {
  attr: Attr;
  /** It has written (its data may be newer than the master's attributes say). */
  writing: boolean;
}

export class KernelPages {
  /** Per inode, the attributes of the data the kernel's pages hold. */
  private readonly recorded: LRUCache<number, Attr>;

  constructor(maxRecords = MAX_RECORDS) {
    this.recorded = new LRUCache({ max: maxRecords });
  }

  /**
   * An open of the file whose data `attr` (fresh from the master) names: whether the kernel may
   * keep the pages it has of it. `elsewhere`: the file is open on this mount already.
   */
  opening(attr: Attr, elsewhere: OpenElsewhere | undefined): boolean {
    const before = this.recorded.get(attr.ino);
    const keep = before !== undefined && sameData(before, attr);
    if (!elsewhere) {
      this.recorded.set(attr.ino, attr);
      return keep;
    }
    if (elsewhere.writing || !sameData(elsewhere.attr, attr)) {
      this.recorded.delete(attr.ino);
      return false;
    }
    return keep;
  }

  /** This mount changed the file's data. */
  changed(ino: number): void {
    this.recorded.delete(ino);
  }
}
