/**
 * Pages of directory listings as the master last read them, answered again while the database is
 * unchanged. A tree walk (`find`, `du`, `ls -R`, a build's or a backup's scan) lists every
 * directory, and most of the master's work for a listing is SQLite's: reading each entry's inode
 * row into JavaScript (about 3 us an entry, against well under 1 us to encode it). A page is
 * trusted only while the reader connection's data_version (sqlite.ts) is the one it was read at:
 * any commit since, by this master or anything else, drops every page, so what is answered is
 * exactly what a query would read now. Pages are shared and must not be changed.
 */
import { LRUCache } from 'lru-cache';
import { pageSize, type ReaddirResult } from './readdir.js';

/** Entries held in all (a few MiB of pages). */
const MAX_ENTRIES = 50_000;

export class ListingCache {
  /** Every page held was read at `version`. */
  private readonly pages = new LRUCache<string, ReaddirResult>({ maxSize: MAX_ENTRIES, sizeCalculation: (p) => p.entries.length + 1 });
  private version = -1;

  /** The page `load` reads, or the one it read last time with the same arguments, if nothing was committed since. */
  async read(version: number, ino: number, after: string, limit: number, withAttrs: boolean, load: () => Promise<ReaddirResult>): Promise<ReaddirResult> {
    if (version !== this.version) {
      // Something was committed: nothing read before may still hold.
      this.pages.clear();
      this.version = version;
    }
    // Pages of the same size share a key (0 asks for the default page).
    const key = `${ino}/${pageSize(limit)}/${withAttrs ? 1 : 0}/${after}`;
    const hit = this.pages.get(key);
    if (hit) return hit;
    const page = await load();
    // Kept only if nothing was committed while it was read.
    if (this.version === version) this.pages.set(key, page);
    return page;
  }
}
