/**
 * Directory listings being read. The kernel reads a directory in pieces, each starting at the
 * offset the previous one ended with; a handle keeps the entries read so far so that the offsets
 * stay stable while it is read, and asks the master for the next page only when the kernel gets
 * there. Offset 0 again (rewinddir) reads the directory afresh.
 *
 * The kernel may open and close directories without telling fst-mount (fuse/adapter.ts): a handle
 * is then named by the offsets it gave out, and released when its listing was read to the end. A
 * listing left unfinished (a reader that stopped early) is dropped after IDLE_MS, or, the oldest
 * first, when more than MAX_HANDLES are open; a reader that comes back to it later reads a fresh
 * listing from where it was (adapter.ts).
 */
import { FsError } from '../../common/errors/errno.js';
import type { MetaClient } from '../meta-client.js';
import type { Attr, DirEntry } from '../types.js';
import type { ListingReadAhead } from './listing-read-ahead.js';

/** Entries asked of the master at once. */
const PAGE = 1000;
/** Handle numbers stay below this (they are part of the offsets the kernel gets: adapter.ts). */
export const MAX_HANDLE = 2 ** 20;
const MAX_HANDLES = 1024;
const IDLE_MS = 10 * 60_000;

export interface DirHandle {
  ino: number;
  /** The directory itself, for "." and "..". */
  self: Attr;
  entries: DirEntry[];
  after: string;
  more: boolean;
  /** The change_seq of the pages read so far; 'mixed' when they differ (not one listing). */
  seq: number | 'mixed' | undefined;
  /** Last read (Date.now()). */
  usedAt: number;
}

export class DirHandleTable {
  /** Least recently read first. */
  private readonly dirs = new Map<number, DirHandle>();
  private next = 1;

  open(self: Attr): number {
    const now = Date.now();
    for (const [fh, d] of this.dirs) {
      if (this.dirs.size < MAX_HANDLES && now - d.usedAt <= IDLE_MS) break;
      this.dirs.delete(fh);
    }
    while (this.dirs.has(this.next)) this.next = (this.next % (MAX_HANDLE - 1)) + 1;
    const fh = this.next;
    this.next = (this.next % (MAX_HANDLE - 1)) + 1;
    this.dirs.set(fh, { ino: self.ino, self, entries: [], after: '', more: true, seq: undefined, usedAt: now });
    return fh;
  }

  get(fh: number): DirHandle {
    const d = this.dirs.get(fh);
    if (!d) throw new FsError('EBADF', `no open directory handle ${fh}`);
    this.dirs.delete(fh);
    this.dirs.set(fh, d);
    d.usedAt = Date.now();
    return d;
  }

  /** Whether `fh` is a handle of directory `ino` still open. */
  holds(fh: number, ino: number): boolean {
    return this.dirs.get(fh)?.ino === ino;
  }

  release(fh: number): void {
    this.dirs.delete(fh);
  }
}

/**
 * Makes sure entries [0, count) of the directory's children are read (fewer at its end). The first
 * page may have been read ahead (listing-read-ahead.ts); every page read asks ahead for the
 * subdirectories it names.
 */
export async function readAhead(meta: MetaClient, d: DirHandle, count: number, ahead?: ListingReadAhead): Promise<void> {
  while (d.more && d.entries.length < count) {
    const first = d.after === '' && d.entries.length === 0;
    const kept = first ? await ahead?.take(d.ino) : undefined;
    const stamp = kept ?? ahead?.stamp();
    const page = kept?.page ?? (await meta.readdir(d.ino, { after: d.after, limit: PAGE, withAttrs: true }));
    if (!kept?.reused) ahead?.listed(page.entries);
    if (first && !page.more && stamp) ahead?.keepForReopen(d.ino, { page, at: stamp.at, asked: stamp.asked });
    d.seq = d.seq === undefined || d.seq === page.changeSeq ? page.changeSeq : 'mixed';
    d.entries.push(...page.entries);
    const last = page.entries[page.entries.length - 1];
    d.more = page.more && last !== undefined;
    if (last) d.after = last.name;
  }
}

/** Forgets what was read (rewinddir). */
export function rewind(d: DirHandle): void {
  d.entries = [];
  d.after = '';
  d.more = true;
  d.seq = undefined;
}
