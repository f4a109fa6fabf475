/**
 * Attributes this mount knows exactly, of files named in directories delegated to it
 * (delegated-dirs.ts): read from the master after a grant that vouched for them (DirGrant.attrs:
 * no other mount was changing an inode then), and changed since only by this mount. While the
 * directory is held, another mount's call about such a file (its attributes, a write's commit, a
 * link) recalls the directory first, so chmod, chown and utimens of it are answered here
 * (ops-delegated.ts `setattrHere`) and sent in the next batch.
 *
 * Anything else heard of an inode that differs from what is kept here (an answer to a call sent
 * before, a write's commit) makes it unknown: the next change asks the master, whose answer is
 * exact again. The end of the delegation drops everything of the directory, and each new grant
 * starts afresh (a token per grant: a listing read for an earlier one is not taken).
 */
import { LRUCache } from 'lru-cache';
import { fst, type Attr } from '../types.js';
import { sameAttrs } from './same-attrs.js';

/** Attribute changes sent to the master in one directory within WANT_WINDOW_MS before its files' attributes are asked for. */
const WANT_AFTER = 4;
const WANT_WINDOW_MS = 1000;

interface Known {
  dir: number;
  name: string;
  /** Absent: listed, but heard of while the listing was read (unknown until this mount's next answer from the master). */
  attr: Attr | undefined;
}

export class ExactAttrs {
  private readonly byIno = new Map<number, Known>();
  private readonly byDir = new Map<number, Set<number>>();
  /** Per directory: its current grant, whether it vouches for attributes read under it, and whether they were read. */
  private readonly grants = new Map<number, { token: number; exact: boolean; read: boolean }>();
  private nextToken = 1;
  /** Per directory: attribute changes of its files sent to the master lately. */
  private readonly sent = new LRUCache<number, number>({ max: 10_000, ttl: WANT_WINDOW_MS });

  /**
   * An attribute change of a file named in `dir` went to the master: answers true when enough did
   * lately that the directory's files' attributes are worth asking for (a `chmod -R`, a `touch *`).
   */
  sentToMaster(dir: number): boolean {
    const n = (this.sent.get(dir) ?? 0) + 1;
    this.sent.set(dir, n);
    return n >= WANT_AFTER;
  }

  /** Whether attribute changes were sent lately for files in `dir` (its listing is then read with attributes at its grant). */
  wanted(dir: number): boolean {
    return (this.sent.get(dir) ?? 0) >= WANT_AFTER;
  }

  /** `dir` was just granted (`exact`: DirGrant.attrs): what was known of it goes. */
  granted(dir: number, exact: boolean): void {
    this.dropDir(dir);
    this.grants.set(dir, { token: this.nextToken++, exact, read: false });
  }

  /**
   * The token to read the attributes of the files of `dir` under (EntryCache.listWhole), if its
   * grant vouches for them and they are not read yet; it counts as read from now on.
   */
  toRead(dir: number): number | undefined {
    const g = this.grants.get(dir);
    if (!g?.exact || g.read) return undefined;
    g.read = true;
    return g.token;
  }

  /** The listing read under `token` failed or was not whole: they may be read again. */
  unread(dir: number, token: number): void {
    const g = this.grants.get(dir);
    if (g?.token === token) g.read = false;
  }

  /**
   * The files of `dir` as a listing read for grant `token` told them (those with one name: a file
   * with several may change through another directory's names); `exact(ino)`: nothing else was
   * heard of it while the listing was read.
   */
  fill(dir: number, token: number, entries: Iterable<[string, Attr]>, exact: (ino: number) => boolean): void {
    if (this.grants.get(dir)?.token !== token) return;
    let inos = this.byDir.get(dir);
    if (!inos) this.byDir.set(dir, (inos = new Set()));
    for (const [name, attr] of entries) {
      if (attr.type === fst.FileType.DIRECTORY || attr.nlink !== 1) continue;
      this.forget(attr.ino);
      this.byIno.set(attr.ino, { dir, name, attr: exact(attr.ino) ? attr : undefined });
      inos.add(attr.ino);
    }
    this.sent.delete(dir);
  }

  /** The token of the grant `dir` is held under, when it vouches for attributes (for `made`). */
  exactGrant(dir: number): number | undefined {
    const g = this.grants.get(dir);
    return g?.exact ? g.token : undefined;
  }

  /**
   * This mount made `name` in `dir` through the master with a call sent under grant `token`: the
   * master's answer `attr` is exact, as if the listing had told it.
   */
  made(dir: number, token: number, name: string, attr: Attr): void {
    if (this.grants.get(dir)?.token !== token) return;
    this.fill(dir, token, [[name, attr]], () => true);
  }

  /** What is known of `ino`: the directory and name it was listed under, and its attributes. */
  get(ino: number): Readonly<Known & { attr: Attr }> | undefined {
    const k = this.byIno.get(ino);
    return k?.attr ? (k as Known & { attr: Attr }) : undefined;
  }

  /** The grant `ino` was listed under (to tell `learned` which one a call was sent under). */
  grantOf(ino: number): number | undefined {
    const k = this.byIno.get(ino);
    return k && this.grants.get(k.dir)?.token;
  }

  /**
   * The master answered this mount's call about a listed inode with `attr`: exact, if the call was
   * sent under the grant it is listed under (`token`), which still runs.
   */
  learned(attr: Attr, token: number): void {
    const k = this.byIno.get(attr.ino);
    if (k && this.grants.get(k.dir)?.token === token) k.attr = attr;
  }

  /** This mount changed the attributes of `ino` itself (they stay exact). */
  changedHere(attr: Attr): void {
    const k = this.byIno.get(attr.ino);
    if (k) k.attr = attr;
  }

  /** Attributes of an inode heard from anywhere: if they differ from those kept, those go. */
  heard(attr: Attr): void {
    const k = this.byIno.get(attr.ino);
    if (k?.attr && k.attr !== attr && !sameAttrs(k.attr, attr)) k.attr = undefined;
  }

  forget(ino: number): void {
    const k = this.byIno.get(ino);
    if (!k) return;
    this.byIno.delete(ino);
    this.byDir.get(k.dir)?.delete(ino);
  }

  /** The delegation of `dir` ended (or starts again): nothing of it is exact any more. */
  dropDir(dir: number): void {
    this.grants.delete(dir);
    const inos = this.byDir.get(dir);
    if (!inos) return;
    this.byDir.delete(dir);
    for (const ino of inos) {
      if (this.byIno.get(ino)?.dir === dir) this.byIno.delete(ino);
    }
  }

  clear(): void {
    this.byIno.clear();
    this.byDir.clear();
    this.grants.clear();
  }
}
