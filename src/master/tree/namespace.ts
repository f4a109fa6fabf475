/**
 * The master's namespace: one method per POSIX call, each throwing FsError with the errno Linux
 * would give. A thin facade: every mutation is ONE `db.write` body (its reads included, so
 * check-then-act is atomic and a failure rolls back everything it did); pure reads use the reader
 * connection. The rules live in the per-concern modules this file delegates to.
 *
 * `caller` absent (null/undefined) means a trusted in-process request: no permission checks, and
 * new inodes belong to root.
 *
 * Every call that adds or removes a name also answers with the attributes of the directory (or
 * both directories) it changed, read in the same transaction right after the change: exactly what
 * was committed (NFS "wcc data"), so clients update their caches instead of asking again.
 */
import { fst } from '../../proto-gen/fst.js';
import type { MasterDb } from '../db/database.js';
import { toCred, type Caller } from './checks.js';
import { getattr, punchHole, setattr, type SetAttrInput } from './attr.js';
import { readCounters, type FsCounts } from './counters.js';
import type { CreateResult } from './create.js';
import { link, readlink, symlink, type LinkResult } from './link-symlink.js';
import { lookup } from './lookup.js';
import { mkdir, mknod, type MknodResult } from './mknod-mkdir.js';
import { expireOrphans, releaseOrphan, renewOrphans } from './orphans.js';
import { inlineData, writeInline, type WriteInlineArgs } from './inline-data.js';
import { readdir, type ReaddirResult } from './readdir.js';
import { ListingCache } from './listing-cache.js';
import { rename, type RenameResult } from './rename.js';
import { rmdir, unlink, type RemoveResult, type UnlinkResult } from './unlink-rmdir.js';
import { getxattr, listxattr, removexattr, setxattr } from './xattr.js';
import { reserveInos } from './counters.js';
import type { Stamp } from './stamp.js';
import { namingDirs } from './entries.js';

export type { Caller } from './checks.js';
export type { SetAttrInput } from './attr.js';
export type { FsCounts } from './counters.js';
export type { CreateResult } from './create.js';
export type { LinkResult } from './link-symlink.js';
export type { MknodResult } from './mknod-mkdir.js';
export type { RenameResult } from './rename.js';
export type { RemoveResult, UnlinkResult } from './unlink-rmdir.js';
export type { ReaddirEntry, ReaddirResult } from './readdir.js';
export type { Stamp } from './stamp.js';

/** What the namespace needs of the database (tests may wrap it). */
export type NamespaceDb = Pick<MasterDb, 'write' | 'reader'>;

export class Namespace {
  /** Listings read since the last commit, answered again (tree walks). */
  private readonly listings = new ListingCache();

  constructor(private readonly db: NamespaceDb) {}

  /** lookup: the inode named `name` in directory `parent` ("." and ".." included). */
  lookup(parent: number, name: string, caller?: Caller): Promise<fst.IAttr> {
    return lookup(this.db.reader, parent, name, toCred(caller));
  }

  /** stat(2). */
  getattr(ino: number): Promise<fst.IAttr> {
    return getattr(this.db.reader, ino);
  }

  /** stat(2) plus a small file's inline bytes (what open needs to read it without another call). */
  async getattrWithData(ino: number): Promise<{ attr: fst.IAttr; inlineData?: Buffer; inline: boolean }> {
    const attr = await getattr(this.db.reader, ino);
    if (attr.type !== fst.FileType.REGULAR) return { attr, inline: false };
    const data = await inlineData(this.db.reader, ino);
    return data ? { attr, inlineData: data, inline: true } : { attr, inline: false };
  }

  /** Resolves once everything committed so far is on disk. */
  async syncMetadata(): Promise<void> {
    await this.db.write(() => Promise.resolve(), { durable: true });
  }

  /** A small file's whole content, kept in the metadata (tree/inline-data.ts); `sync`: on disk when answered. */
  writeInline(args: WriteInlineArgs, sync = false): Promise<fst.IAttr> {
    return this.db.write((tx) => writeInline(tx, args), { durable: sync });
  }

  /**
   * chmod, chown, truncate, utimensat: the fields selected by `req.fields` (SetAttrField bits);
   * `stamp.now`: the time a mount already told for it (ApplyChanges).
   */
  setattr(ino: number, req: SetAttrInput, caller?: Caller, stamp?: Stamp): Promise<fst.IAttr> {
    return this.db.write((tx) => setattr(tx, ino, req, toCred(caller), stamp?.now));
  }

  /** Drops the chunks wholly inside a punched hole (tree/attr.ts punchHole). */
  punchHole(ino: number, offset: number, length: number): Promise<{ attr: fst.IAttr; freed: number }> {
    return this.db.write((tx) => punchHole(tx, ino, offset, length));
  }

  /** The directories holding a name of `ino`, as committed. */
  namingDirs(ino: number): Promise<number[]> {
    return namingDirs(this.db.reader, ino);
  }

  /** mknod(2) / open(O_CREAT[|O_EXCL]): a regular file, fifo, device or socket. */
  mknod(
    parent: number,
    name: string,
    type: fst.FileType,
    mode: number,
    rdev: number,
    caller?: Caller,
    exclusive = false,
  ): Promise<MknodResult> {
    return this.db.write((tx) => mknod(tx, { parent, name, type, mode, rdev, exclusive }, toCred(caller)));
  }

  /** mkdir(2). */
  mkdir(parent: number, name: string, mode: number, caller?: Caller, stamp?: Stamp): Promise<CreateResult> {
    return this.db.write((tx) => mkdir(tx, parent, name, mode, toCred(caller), stamp));
  }

  /** unlink(2): returns the links left on the inode (0 = freed, or an orphan if it is `keepIno`). */
  unlink(parent: number, name: string, caller?: Caller, keepIno = 0, stamp?: Stamp): Promise<UnlinkResult> {
    return this.db.write((tx) => unlink(tx, parent, name, toCred(caller), keepIno, stamp));
  }

  /** rmdir(2). */
  rmdir(parent: number, name: string, caller?: Caller, stamp?: Stamp): Promise<RemoveResult> {
    return this.db.write((tx) => rmdir(tx, parent, name, toCred(caller), stamp));
  }

  /** rename(2); renameat2(RENAME_NOREPLACE) with `noReplace`. */
  rename(parent: number, name: string, newParent: number, newName: string, noReplace = false, caller?: Caller, keepIno = 0, stamp?: Stamp): Promise<RenameResult> {
    return this.db.write((tx) => rename(tx, { parent, name, newParent, newName, noReplace, keepIno }, toCred(caller), stamp));
  }

  /** Renews the orphans a client keeps open and frees those it closed; answers which are gone. */
  updateOrphans(keep: readonly number[], release: readonly number[]): Promise<number[]> {
    return this.db.write(async (tx) => {
      for (const ino of release) await releaseOrphan(tx, ino);
      return renewOrphans(tx, keep, Date.now());
    });
  }

  /** Frees orphans whose client stopped renewing them; returns how many. */
  expireOrphans(nowMs = Date.now()): Promise<number> {
    return this.db.write((tx) => expireOrphans(tx, nowMs));
  }

  /** link(2): a new name for inode `ino`. */
  link(ino: number, newParent: number, newName: string, caller?: Caller): Promise<LinkResult> {
    return this.db.write((tx) => link(tx, ino, newParent, newName, toCred(caller)));
  }

  /** symlink(2). */
  symlink(parent: number, name: string, target: string, caller?: Caller, stamp?: Stamp): Promise<CreateResult> {
    return this.db.write((tx) => symlink(tx, parent, name, target, toCred(caller), stamp));
  }

  /** Reserves `count` inode numbers for a mount's creations in delegated directories; answers the first. */
  reserveInos(count: number): Promise<number> {
    return this.db.write((tx) => reserveInos(tx, count));
  }

  /** readlink(2). */
  readlink(ino: number): Promise<string> {
    return readlink(this.db.reader, ino);
  }

  /** getdents(2), one page: entries after name `after`, at most `limit` (0 = default 1000, max 10000). */
  readdir(ino: number, after = '', limit = 0, withAttrs = false): Promise<ReaddirResult> {
    const q = this.db.reader;
    return this.listings.read(q.dataVersion(), ino, after, limit, withAttrs, () => readdir(q, ino, after, limit, withAttrs));
  }

  /** The inode and chunk totals statfs(2) reports, from the counters table. */
  statfsCounts(): Promise<FsCounts> {
    return readCounters(this.db.reader);
  }

  /** getxattr(2). */
  getxattr(ino: number, name: string): Promise<Buffer> {
    return getxattr(this.db.reader, ino, name);
  }

  /** setxattr(2). */
  setxattr(ino: number, name: string, value: Uint8Array, flags: fst.XattrFlag = fst.XattrFlag.XATTR_ANY, caller?: Caller): Promise<void> {
    return this.db.write((tx) => setxattr(tx, ino, name, value, flags, toCred(caller)));
  }

  /** listxattr(2). */
  listxattr(ino: number): Promise<string[]> {
    return listxattr(this.db.reader, ino);
  }

  /** removexattr(2). */
  removexattr(ino: number, name: string, caller?: Caller): Promise<void> {
    return this.db.write((tx) => removexattr(tx, ino, name, toCred(caller)));
  }
}
