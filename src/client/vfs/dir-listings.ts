/**
 * Directories this mount knows completely: every name in one, as of the directory's change_seq (the
 * master counts each call that changes its entries). With one, a lookup of a name it does not hold
 * is answered "no such name" without asking the master, and one it holds by its inode: creating a
 * file, a directory or a symlink then costs one master call instead of two, and so does removing
 * or renaming one whose name the kernel no longer trusts.
 *
 * A listing is what the master said at one moment: a fresh directory this mount made (empty), or a
 * whole directory read in pages of one change_seq. It stays trusted for the entry TTL, like any
 * name the master told; each change this mount makes in the directory renews it when the master's
 * answer carries the very next change_seq (nobody else changed the directory in between), and
 * drops it otherwise. A listing past its TTL is kept, untrusted, until the master next tells the
 * directory's change_seq (its attributes, which the kernel asks for before each change in it): the
 * same number renews it, another drops it. So names made elsewhere show within the TTL at most, as
 * with the kernel's own caches, while a directory this mount keeps changing stays known.
 */
import { LRUCache } from 'lru-cache';

interface Listing {
  names: Map<string, number>;
  seq: number;
  /** When the master last confirmed it (Date.now()). */
  verifiedAt: number;
  /** The directory is delegated to this mount (delegated-dirs.ts): nobody else changes it, so the listing holds with no TTL. */
  delegated: boolean;
}

/** What a listing says of one name: its inode, or `absent`; and for how long that holds. */
export interface ListedName {
  ino: number | 'absent';
  ttlSec: number;
}

export class DirListings {
  private readonly dirs: LRUCache<number, Listing>;

  constructor(private readonly ttlMs: number, maxNames = 200_000) {
    this.dirs = new LRUCache<number, Listing>({ maxSize: maxNames, sizeCalculation: (l) => l.names.size + 1 });
  }

  /** A listing trusted now: delegated here, or confirmed within the TTL (never with a TTL of 0). */
  private live(dir: number): Listing | undefined {
    const l = this.dirs.get(dir);
    return l && (l.delegated || (this.ttlMs > 0 && Date.now() - l.verifiedAt <= this.ttlMs)) ? l : undefined;
  }

  /** The master says `dir` is at change_seq `seq` now: a listing of that number is renewed, another dropped. */
  confirm(dir: number, seq: number): void {
    const l = this.dirs.get(dir);
    if (!l) return;
    if (l.seq === seq) l.verifiedAt = Date.now();
    else this.dirs.delete(dir);
  }

  /** What the listing of `dir` says of `name`, if the mount has one it trusts. */
  find(dir: number, name: string): ListedName | undefined {
    const l = this.live(dir);
    if (!l) return undefined;
    const ttlSec = l.delegated ? this.ttlMs / 1000 : Math.max(0, this.ttlMs - (Date.now() - l.verifiedAt)) / 1000;
    return { ino: l.names.get(name) ?? 'absent', ttlSec };
  }

  /** The whole of `dir`, read at `seq`. */
  listed(dir: number, seq: number, entries: Iterable<[string, number]>): void {
    // Read whole while delegated here: still nobody else's changes in it.
    const delegated = this.dirs.get(dir)?.delegated === true;
    this.dirs.set(dir, { names: new Map(entries), seq, verifiedAt: Date.now(), delegated });
  }

  /** The whole of `dir`, read at `seq`, as the entries of a listing. */
  listedEntries(dir: number, seq: number, entries: readonly { name: string; ino: number }[]): void {
    // The listing held of the same change_seq has the same names: renewed, not built again.
    const held = this.dirs.get(dir);
    if (held?.seq === seq && held.names.size === entries.length) {
      held.verifiedAt = Date.now();
      return;
    }
    const names = new Map<string, number>();
    for (const e of entries) names.set(e.name, e.ino);
    this.dirs.set(dir, { names, seq, verifiedAt: Date.now(), delegated: this.dirs.get(dir)?.delegated === true });
  }

  /**
   * `dir` is delegated to this mount, at change_seq `seq`: a listing of that number holds until
   * `undelegate`. False when there is no such listing (it must be read first).
   */
  delegate(dir: number, seq: number): boolean {
    const l = this.dirs.get(dir);
    if (!l || l.seq !== seq) return false;
    l.delegated = true;
    l.verifiedAt = Date.now();
    return true;
  }

  /** The delegation of `dir` ended: its listing is trusted for one TTL from now, as after a change. */
  undelegate(dir: number): void {
    const l = this.dirs.get(dir);
    if (!l?.delegated) return;
    l.delegated = false;
    l.verifiedAt = Date.now();
  }

  /** The listing of a delegated directory: its change_seq and names (undefined when not delegated). */
  delegated(dir: number): { seq: number; names: ReadonlyMap<string, number> } | undefined {
    const l = this.dirs.get(dir);
    return l?.delegated ? l : undefined;
  }

  /** A directory this mount just made: empty at `seq`. */
  created(dir: number, seq: number): void {
    this.listed(dir, seq, []);
  }

  /**
   * This mount changed `dir`, and the master answered with its change_seq (undefined after a
   * failure). Applies `change` if the answer directly follows the listing; drops it otherwise.
   * `change` returns false when it cannot apply (it lacks an inode): the listing goes too.
   */
  changed(dir: number, seq: number | undefined, change: (names: Map<string, number>) => boolean): void {
    const l = this.dirs.get(dir);
    if (!l) return;
    if (seq === undefined || seq !== l.seq + 1 || !change(l.names)) {
      this.dirs.delete(dir);
      return;
    }
    l.seq = seq;
    l.verifiedAt = Date.now();
    // Its size changed: set again so that the LRU counts it.
    this.dirs.set(dir, l);
  }

  /** The change_seq of the listing of `dir`, if there is one. */
  seqOf(dir: number): number | undefined {
    return this.dirs.get(dir)?.seq;
  }

  /** The inode `name` has in the listing of `dir`, if any (trusted or not: for moving it). */
  inoOf(dir: number, name: string): number | undefined {
    return this.dirs.get(dir)?.names.get(name);
  }

  forget(dir: number): void {
    this.dirs.delete(dir);
  }

  clear(): void {
    this.dirs.clear();
  }
}
