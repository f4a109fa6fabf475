/**
 * Read-ahead of directory listings for tree walks. `find`, `du`, `ls -lR` and `rm -r` list a
 * directory, then open its subdirectories one after another; each opening used to wait for a
 * master round trip (two process wakeups each way, and the master's work) while both sides sat
 * idle in between. When a listing names subdirectories, their first pages are asked for at once, in
 * one ReaddirMany call, and are waiting when the walker gets there.
 *
 * A page read ahead is a listing as the master had it at one moment, like any other: it is used
 * only within half the entry TTL of being asked for (so nothing it says is trusted longer than
 * one and a half TTLs), by the first read of an opening of its directory (a listing read whole is
 * kept for the next opening the same way), and not at all if this mount changed that directory, or
 * the attributes of anything in it, since it was asked for. Unused pages expire, and what waits is
 * bounded; the master's side of a call is bounded by an entry budget (master/rpc/readdir-many.ts).
 */
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { MetaClient, ReaddirPage } from '../meta-client.js';
import { fst, type DirEntry } from '../types.js';
import type { EntryCache } from './entry-cache.js';

/** Subdirectories asked for per listing read. */
const DIRS_PER_CALL = 64;
/** Entries per call in all, and per directory (a longer directory continues page by page). */
const ENTRIES_PER_CALL = 4000;
const ENTRIES_PER_DIR = 1000;
/** Pages, and entries in them, kept waiting at most (the oldest go first): a few MiB. */
const MAX_WAITING = 1024;
export const MAX_WAITING_ENTRIES = 20_000;

/** A first page of a listing, and when it was read. */
export interface ListedPage {
  page: ReaddirPage;
  /** When it was asked for (Date.now()). */
  at: number;
  /** This mount's change count when it was asked for (EntryCache.unchangedSince). */
  asked: number;
  /** Served once already (a directory opened again): its subdirectories were asked ahead then. */
  reused?: boolean;
}

export class ListingReadAhead {
  /** In the order they arrived (so the oldest first). */
  private readonly waiting = new Map<number, ListedPage>();
  private waitingEntries = 0;
  /** Directories asked for and not answered yet; calling the function sends the call now if it is not sent yet. */
  private readonly asking = new Map<number, () => Promise<void>>();
  private disabled = false;

  constructor(
    private readonly meta: MetaClient,
    private readonly entries: EntryCache,
    private readonly log: Logger,
  ) {}

  private get maxAgeMs(): number {
    return this.entries.ttlMs / 2;
  }

  /** A listing (a page of one) was read: ask ahead for its subdirectories' first pages. */
  listed(entries: readonly DirEntry[]): void {
    this.askAhead(entries, 1);
  }

  /**
   * Asks for the first pages of the subdirectories `entries` names, in one call. The pages of a
   * call made for the walker's own listing (`depth` 1) name subdirectories too: those are asked for
   * at once in one more call (depth 2), so that a walker going down from a directory to its first
   * subdirectory, and on down, finds the pages there rather than waiting for each level in turn.
   * Deeper is not asked: a listing costs the master at most two calls of ENTRIES_PER_CALL.
   */
  private askAhead(entries: Iterable<DirEntry>, depth: number): void {
    if (this.disabled || this.maxAgeMs <= 0) return;
    const dirs: number[] = [];
    for (const e of entries) {
      if (e.type !== fst.FileType.DIRECTORY || this.waiting.has(e.ino) || this.asking.has(e.ino)) continue;
      dirs.push(e.ino);
      if (dirs.length === DIRS_PER_CALL) break;
    }
    if (dirs.length === 0) return;
    const at = Date.now();
    const asked = this.entries.changes;
    let call: Promise<void> | undefined;
    const ask = (): Promise<void> => (call ??= this.meta.readdirMany(dirs, { perDir: ENTRIES_PER_DIR, total: ENTRIES_PER_CALL }).then((pages) => {
      for (const [ino, page] of pages) this.keep(ino, { page, at, asked });
      if (depth < 2) this.askAhead([...pages.values()].flatMap((p) => p.entries), depth + 1);
    }, (e: unknown) => {
      // A master without ReaddirMany: stop asking. Anything else (a master restarting, a timeout)
      // costs only the read-ahead; the walker's own reads report it if it lasts.
      if (e instanceof FsError && e.code === 'ENOSYS') this.disabled = true;
      else this.log.debug('listing read-ahead failed', { err: e });
    }).finally(() => {
      for (const d of dirs) this.asking.delete(d);
    }));
    // Sent after the listing that named them is answered: writing to the master's socket costs a
    // wakeup of the master, which the walker need not wait for. A take() before then sends it at once.
    for (const d of dirs) this.asking.set(d, ask);
    setImmediate(() => void ask());
  }

  private keep(ino: number, w: ListedPage): void {
    this.drop(ino);
    this.waiting.set(ino, w);
    this.waitingEntries += w.page.entries.length;
    // Unused pages go when too old to be used, or to make room (oldest first).
    const now = Date.now();
    for (const [oldest, o] of this.waiting) {
      if (this.waiting.size <= MAX_WAITING && this.waitingEntries <= MAX_WAITING_ENTRIES && now - o.at <= this.maxAgeMs) break;
      this.drop(oldest);
    }
  }

  private drop(ino: number): ListedPage | undefined {
    const w = this.waiting.get(ino);
    if (w) {
      this.waiting.delete(ino);
      this.waitingEntries -= w.page.entries.length;
    }
    return w;
  }

  /** What a page about to be read from the master is stamped with (for `keepForReopen`). */
  stamp(): { at: number; asked: number } {
    return { at: Date.now(), asked: this.entries.changes };
  }

  /**
   * A whole listing (one page) was just read: the next opening of the directory may use it too,
   * within the same age limit counted from when it was first asked for. `rm -r` opens every
   * directory twice (once to see whether it is empty), and would otherwise ask the master again.
   */
  keepForReopen(dir: number, l: ListedPage): void {
    if (this.disabled || Date.now() - l.at > this.maxAgeMs) return;
    this.keep(dir, { ...l, reused: true });
  }

  /** The first page of `dir` read ahead (or kept), still fresh and untouched by this mount; it is used up. */
  async take(dir: number): Promise<ListedPage | undefined> {
    await this.asking.get(dir)?.();
    const w = this.drop(dir);
    if (!w) return undefined;
    if (Date.now() - w.at > this.maxAgeMs || !this.entries.unchangedSince(dir, w.asked)) return undefined;
    // An entry whose attributes changed through this mount since (a write, a chmod, a link
    // elsewhere) would be shown as it was: list afresh.
    if (w.page.entries.some((e) => !this.entries.attrsUnchangedSince(e.ino, w.asked))) return undefined;
    return w;
  }
}
