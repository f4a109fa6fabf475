/**
 * Read-ahead of directory listings for tree walks. `find`, `du`, `ls -lR` and `rm -r` list a
 * directory, then open its subdirectories one after another, depth first in name order; each
 * opening used to wait for a master round trip (two process wakeups each way, and the master's
 * work) while both sides sat idle in between. When a listing names subdirectories, their first
 * pages, and those of the subdirectories below them, are asked for in one ReaddirMany call that
 * descends in the walker's own order (master/rpc/readdir-many.ts), so the pages the walker needs
 * first come first. Where a call stopped (its entry budget), the next one goes on at once, while
 * the walker is less than LEAD_ENTRIES behind: a walk of a few thousand entries costs a few calls
 * instead of one per directory or two, and the master and the mount do each call's work in bulk.
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

/** Directories asked for per call (the master looks at no more). */
const DIRS_PER_CALL = 256;
/**
 * Entries per call in all. The first call of a walk is small (the walker waits for it), and each
 * call that goes on from another asks for CALL_GROWTH times as many, up to MAX_CALL_ENTRIES: a
 * call then takes less time than the walker takes to use the pages of the one before, and the
 * mount's event loop, which answers the walker too, is never held up by one large answer.
 * Per directory a page is at most ENTRIES_PER_DIR (a longer directory continues page by page).
 */
const FIRST_CALL_ENTRIES = 300;
const CALL_GROWTH = 1.5;
const MAX_CALL_ENTRIES = 4000;
const ENTRIES_PER_DIR = 1000;
/** Calls go on from where the last stopped while fewer entries than this wait unused. */
const LEAD_ENTRIES = 8000;
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
  /** Where the last call stopped when the walker was too far behind to go on: asked for once it catches up. */
  private frontier: { dirs: number[]; budget: number; at: number } | undefined;
  private disabled = false;

  constructor(
    private readonly meta: MetaClient,
    private readonly entries: EntryCache,
    private readonly log: Logger,
  ) {}

  private get maxAgeMs(): number {
    return this.entries.ttlMs / 2;
  }

  /** Whether something asked for at `at` may still be used (within maxAgeMs; never when that is 0). */
  private fresh(at: number, now = Date.now()): boolean {
    return this.maxAgeMs > 0 && now - at <= this.maxAgeMs;
  }

  /** A listing (a page of one) was read: ask ahead for the tree below its subdirectories. */
  listed(entries: readonly DirEntry[]): void {
    const dirs: number[] = [];
    for (const e of entries) if (e.type === fst.FileType.DIRECTORY) dirs.push(e.ino);
    this.askAhead(dirs, FIRST_CALL_ENTRIES);
  }

  /**
   * Asks, in one call, for the listings of `dirs` not waiting or asked for already, and of the
   * directories below them, depth first, within `budget` entries. When the call stopped short, the
   * next goes on from there (or later, from `take`, if the walker is too far behind).
   */
  private askAhead(candidates: Iterable<number>, budget: number): void {
    if (this.disabled || this.maxAgeMs <= 0) return;
    const dirs: number[] = [];
    const now = Date.now();
    for (const d of candidates) {
      if (this.asking.has(d)) continue;
      // A page too old to be used is asked for again, not left to fail the walker's take (a page
      // kept for reopening by the last walk of this tree, which the next walk finds here).
      const w = this.waiting.get(d);
      if (w && this.fresh(w.at, now)) continue;
      if (w) this.drop(d);
      dirs.push(d);
      if (dirs.length === DIRS_PER_CALL) break;
    }
    if (dirs.length === 0) return;
    const asked = this.entries.changes;
    let call: Promise<void> | undefined;
    const answered = (): void => {
      for (const d of dirs) this.asking.delete(d);
    };
    const ask = (): Promise<void> => (call ??= this.meta.readdirMany(dirs, { perDir: ENTRIES_PER_DIR, total: budget, descend: true }).then(({ pages, unlisted }) => {
      // Before going on: what this call did not list is asked for again by the next.
      answered();
      for (const [ino, page] of pages) this.keep(ino, { page, at: now, asked });
      this.goOn(unlisted, Math.min(MAX_CALL_ENTRIES, Math.round(budget * CALL_GROWTH)));
    }, (e: unknown) => {
      answered();
      // A master without ReaddirMany: stop asking. Anything else (a master restarting, a timeout)
      // costs only the read-ahead; the walker's own reads report it if it lasts.
      if (e instanceof FsError && e.code === 'ENOSYS') this.disabled = true;
      else this.log.debug('listing read-ahead failed', { err: e });
    }));
    // Sent after the listing that named them is answered: writing to the master's socket costs a
    // wakeup of the master, which the walker need not wait for. A take() before then sends it at once.
    for (const d of dirs) this.asking.set(d, ask);
    setImmediate(() => void ask());
  }

  /** Goes on from where a call stopped, now if the walker is close enough behind, else once it catches up. */
  private goOn(unlisted: number[], budget: number): void {
    this.dropExpired();
    if (this.waitingEntries < LEAD_ENTRIES) {
      this.frontier = undefined;
      this.askAhead(unlisted, budget);
    } else {
      this.frontier = { dirs: unlisted, budget, at: Date.now() };
    }
  }

  private keep(ino: number, w: ListedPage): void {
    this.drop(ino);
    this.waiting.set(ino, w);
    this.waitingEntries += w.page.entries.length;
    this.dropExpired();
  }

  /** Unused pages go when too old to be used, or to make room (oldest first). */
  private dropExpired(): void {
    const now = Date.now();
    for (const [oldest, o] of this.waiting) {
      if (this.waiting.size <= MAX_WAITING && this.waitingEntries <= MAX_WAITING_ENTRIES && this.fresh(o.at, now)) break;
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
    if (this.disabled || !this.fresh(l.at)) return;
    this.keep(dir, { ...l, reused: true });
  }

  /** The first page of `dir` read ahead (or kept), still fresh and untouched by this mount; it is used up. */
  async take(dir: number): Promise<ListedPage | undefined> {
    await this.asking.get(dir)?.();
    const w = this.drop(dir);
    const f = this.frontier;
    if (f && this.waitingEntries < LEAD_ENTRIES / 2) {
      // Only for the walk that left it: later, nobody may be coming.
      if (this.fresh(f.at)) this.goOn(f.dirs, f.budget);
      else this.frontier = undefined;
    }
    if (!w) return undefined;
    if (!this.fresh(w.at) || !this.entries.unchangedSince(dir, w.asked)) return undefined;
    // An entry whose attributes changed through this mount since (a write, a chmod, a link
    // elsewhere) would be shown as it was: list afresh.
    if (w.page.entries.some((e) => !this.entries.attrsUnchangedSince(e.ino, w.asked))) return undefined;
    return w;
  }
}
