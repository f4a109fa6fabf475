/**
 * The filesystem as FUSE sees it, independent of FUSE: one method per FUSE low-level operation,
 * named after it, taking inode numbers (FST's own; FUSE's root id 1 is FST's root) and an
 * OpContext, returning typed results and throwing FsError. Built on interfaces only (MetaClient,
 * ChunkClient), so it is tested without a mount; `client/fuse/adapter.ts` only converts arguments,
 * answers and errnos. Answers the kernel may cache come with the seconds it may keep them (Timed).
 * It is the client core of every front end (built by client/core.ts): the mount, and the path API
 * (client/fst-client.ts: `fst`, the HTTP gateway), which resolves paths with its lookups and holds
 * its descriptors.
 */
import type { Logger } from '../../common/log/logger.js';
import type { ChunkClient } from '../chunk-client.js';
import type { MetaClient, ReaddirPage, StatfsResult } from '../meta-client.js';
import type { ReadOptions } from '../read/file-reader.js';
import type { Attr } from '../types.js';
import type { WritebackOptions } from '../writeback/file-writer.js';
import { fallocate } from './fallocate.js';
import { FileLocks } from './file-locks.js';
import { BlockCache } from '../cache/block-cache.js';
import { replaceChainVia, UnsyncedChunks } from '../writeback/unsynced-chunks.js';
import { MemoryBudget } from '../writeback/memory-budget.js';
import { ChangeQueue } from './change-queue.js';
import { DelegatedDirs } from './delegated-dirs.js';
import { ListingReadAhead } from './listing-read-ahead.js';
import { DirHandleTable } from './dir-handles.js';
import { EntryCache } from './entry-cache.js';
import { HandleTable } from './handles.js';
import * as attrOps from './ops-attr.js';
import * as dirOps from './ops-dir.js';
import * as fileOps from './ops-file.js';
import * as nameOps from './ops-names.js';
import * as xattrOps from './ops-xattr.js';
import type { OpContext, Timed } from './op-context.js';
import { KernelPages } from './kernel-pages.js';
import { OpenFileTable } from './open-files.js';
import { OrphanTracker } from './orphans.js';
import type { KernelCache, VfsState } from './vfs-state.js';

export type { KernelCache } from './vfs-state.js';

export interface VfsOptions {
  meta: MetaClient;
  chunks: ChunkClient;
  log: Logger;
  /** How long names and attributes are trusted without asking the master. @default 1000 */
  entryTtlMs?: number;
  /** Bytes of file data the shared read cache holds. @default 268435456 (256 MiB) */
  cacheBytes?: number;
  read?: ReadOptions;
  writeback?: WritebackOptions;
  /** Write-back memory of all open files together. @default 536870912 (512 MiB) */
  writebackMemoryBytes?: number;
  /** The kernel's caches, when mounted. */
  kernel?: KernelCache;
}

export class Vfs {
  private readonly s: VfsState;
  private readonly memory: MemoryBudget;
  /** flock and fcntl locks, kept by the master for every mount (file-locks.ts). */
  readonly locks: FileLocks;

  constructor(o: VfsOptions) {
    const writeback = o.writeback ?? {};
    this.memory = new MemoryBudget(o.writebackMemoryBytes ?? 512 * 1024 * 1024);
    const entries = new EntryCache(o.meta, o.entryTtlMs ?? 1000);
    const pages = new KernelPages();
    const files = new OpenFileTable({
      meta: o.meta, chunks: o.chunks, writeback, log: o.log,
      onAttr: (a) => {
        entries.update(a);
        pages.changed(a.ino);
      },
      memory: this.memory, unsynced: new UnsyncedChunks(o.chunks, o.log, { replace: replaceChainVia(o.meta) }),
    });
    const delegated = o.meta.session === '' ? undefined : this.delegations(o.meta, entries, o.log);
    this.locks = new FileLocks(o.meta, o.log, o.meta.session);
    this.s = {
      delegated,
      changes: delegated?.queue,
      meta: o.meta,
      chunks: o.chunks,
      entries,
      blocks: new BlockCache(o.cacheBytes ?? 256 * 1024 * 1024),
      files,
      handles: new HandleTable(),
      dirs: new DirHandleTable(),
      listingsAhead: new ListingReadAhead(o.meta, entries, o.log),
      orphans: new OrphanTracker(o.meta, entries, files, o.log),
      kernel: o.kernel,
      pages,
      read: o.read ?? {},
      writeback,
      log: o.log,
    };
  }

  /**
   * Directory delegations (delegated-dirs.ts), for a MetaClient with a session: a granted directory
   * is answered here once its listing is known whole at the grant's change_seq (read now if not,
   * or again with its files' attributes when this mount has been changing those: exact-attrs.ts).
   */
  private delegations(meta: MetaClient, entries: EntryCache, log: Logger): DelegatedDirs {
    const delegated: DelegatedDirs = new DelegatedDirs(meta, log, (dir, seq, attrs) => {
      entries.exact.granted(dir, attrs);
      // During a `rm -r`, its subdirectories are asked for as soon as its listing is in hand.
      const ahead = (): void => {
        if (delegated.askingAhead) nameOps.askSubdirs(this.s, dir);
      };
      // Its files' attributes are read with the listing when they will be exact and this mount has
      // been changing them; a listing read anyway brings them too.
      if (!entries.exact.wanted(dir) && entries.listings.delegate(dir, seq)) return ahead();
      const read = entries.exact.toRead(dir);
      (read === undefined ? entries.listWhole(dir, 100_000) : entries.readExact(dir, read)).then((whole) => {
        const seqNow = entries.listings.seqOf(dir);
        if (whole && seqNow !== undefined && delegated.isHeld(dir) && entries.listings.delegate(dir, seqNow)) ahead();
      }, (err: unknown) => log.debug('listing a delegated directory failed', { dir, err }));
    }, (dir, recalled) => {
      entries.exact.dropDir(dir);
      // Recalled: another client is about to change it, so the listing is not trusted any longer.
      if (recalled) entries.listings.forget(dir);
      else entries.listings.undelegate(dir);
    });
    const queue = new ChangeQueue(meta, log, (recalled, epoch) => {
      delegated.answeredBy(epoch);
      if (recalled.length > 0) delegated.recalled(recalled);
    });
    delegated.queue = queue;
    meta.setBarrier((scope) => queue.barrier(scope));
    return delegated;
  }

  /** Sets the kernel cache hooks once mounted (the mount exists only after the Vfs). */
  set kernel(k: KernelCache | undefined) {
    this.s.kernel = k;
  }

  /** lookup: `name` in directory `parent` (ENOENT when absent). */
  lookup(parent: number, name: string): Promise<Timed<Attr>> { return nameOps.lookup(this.s, parent, name); }
  /** stat(2); fstat(2) with `fh`. */
  getattr(ino: number, fh?: number): Promise<Timed<Attr>> { return attrOps.getattr(this.s, ino, fh); }
  /** chmod, chown, truncate (ftruncate with `fh`), utimensat. */
  setattr(ino: number, changes: attrOps.SetattrChanges, fh: number | undefined, ctx: OpContext): Promise<Attr> { return attrOps.setattr(this.s, ino, changes, fh, ctx); }
  /** access(2). */
  access(ino: number): Promise<void> { return attrOps.access(this.s, ino); }
  /** statfs(2). */
  statfs(): Promise<StatfsResult> { return attrOps.statfs(this.s); }

  /** mknod(2): `mode` includes the file type bits. */
  mknod(parent: number, name: string, mode: number, rdev: number, ctx: OpContext): Promise<Attr> { return nameOps.mknod(this.s, parent, name, mode, rdev, ctx); }
  /** mkdir(2). */
  mkdir(parent: number, name: string, mode: number, ctx: OpContext): Promise<Attr> { return nameOps.mkdir(this.s, parent, name, mode, ctx); }
  /** symlink(2): `name` in `parent` becomes a link to `target`. */
  symlink(parent: number, name: string, target: string, ctx: OpContext): Promise<Attr> { return nameOps.symlink(this.s, parent, name, target, ctx); }
  /** readlink(2). */
  readlink(ino: number): Promise<string> { return nameOps.readlink(this.s, ino); }
  /** link(2). */
  link(ino: number, newParent: number, newName: string, ctx: OpContext): Promise<Attr> { return nameOps.link(this.s, ino, newParent, newName, ctx); }
  /** unlink(2). */
  unlink(parent: number, name: string, ctx: OpContext): Promise<void> { return nameOps.unlink(this.s, parent, name, ctx); }
  /** rmdir(2). */
  rmdir(parent: number, name: string, ctx: OpContext): Promise<void> { return nameOps.rmdir(this.s, parent, name, ctx); }
  /** rename(2), renameat2(RENAME_NOREPLACE): atomically replaces an existing target (resolves with whether it did). */
  rename(parent: number, name: string, newParent: number, newName: string, flags: number, ctx: OpContext): Promise<boolean> {
    return nameOps.rename(this.s, parent, name, newParent, newName, flags, ctx);
  }

  /** open(2); the descriptor number (fh) and how the kernel may cache the file. */
  open(ino: number, flags: number): Promise<fileOps.Opened> { return fileOps.open(this.s, ino, flags); }
  /** open(O_CREAT) of a missing name. */
  create(parent: number, name: string, mode: number, flags: number, ctx: OpContext): Promise<{ attr: Attr } & fileOps.Opened> {
    return fileOps.create(this.s, parent, name, mode, flags, ctx);
  }
  /** pread(2); with `view` (the default) possibly a view of a cached block, which the caller must not modify. */
  read(fh: number, position: number, length: number, view = true): Promise<Buffer> { return fileOps.read(this.s, fh, position, length, view); }
  /** pwrite(2). */
  write(fh: number, data: Buffer, position: number): Promise<number> { return fileOps.write(this.s, fh, data, position); }
  /** What descriptor `fh` sees of its file now: size with pending writes, bytes not yet committed. */
  openState(fh: number): { ino: number; size: number; pendingBytes: number; attr: Attr } { return fileOps.openState(this.s, fh); }
  /** fallocate(2): modes 0, KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE (vfs/fallocate.ts). */
  fallocate(fh: number, mode: number, offset: number, length: number, ctx: OpContext): Promise<void> {
    return fallocate(this.s, fh, mode, offset, length, ctx);
  }
  /** close(2) of one descriptor (may be called several times for dup'ed descriptors). */
  flush(fh: number): Promise<void> { return fileOps.flush(this.s, fh); }
  /**
   * fsync(2); the namespace changes this mount answered itself are made durable too (and one the
   * master refused is reported, EIO).
   */
  async fsync(fh: number): Promise<void> {
    await fileOps.fsync(this.s, fh);
    await this.s.changes?.sync();
  }
  /** fsync(2) of a directory: every change made here so far is applied and on the master's disk. */
  async fsyncdir(): Promise<void> {
    await this.s.changes?.flush();
    await this.s.meta.syncMetadata();
  }
  /** The last close of a descriptor. */
  release(fh: number): Promise<void> { return fileOps.release(this.s, fh); }

  /** opendir(3). */
  opendir(ino: number): Promise<number> { return dirOps.opendir(this.s, ino); }
  /** Up to `max` entries from `offset` (readdir and readdirplus). */
  readdir(fh: number, offset: number, max: number): Promise<dirOps.DirPiece> { return dirOps.readdir(this.s, fh, offset, max); }
  /** One page of a directory by name, after `after` (the path API's listing; FUSE's goes by offset). */
  readdirPage(ino: number, page: { after?: string; limit?: number; withAttrs?: boolean }): Promise<ReaddirPage> { return dirOps.readdirPage(this.s, ino, page); }
  /** closedir(3). */
  releasedir(fh: number): void { dirOps.releasedir(this.s, fh); }
  /** Whether `fh` is a listing of directory `ino` still being read (one left unfinished is dropped in time). */
  holdsDir(fh: number, ino: number): boolean { return this.s.dirs.holds(fh, ino); }

  /** getxattr(2). */
  getxattr(ino: number, name: string): Promise<Buffer> { return xattrOps.getxattr(this.s, ino, name); }
  /** setxattr(2). */
  setxattr(ino: number, name: string, value: Buffer, flags: number, ctx: OpContext): Promise<void> { return xattrOps.setxattr(this.s, ino, name, value, flags, ctx); }
  /** listxattr(2). */
  listxattr(ino: number): Promise<string[]> { return xattrOps.listxattr(this.s, ino); }
  /** removexattr(2). */
  removexattr(ino: number, name: string, ctx: OpContext): Promise<void> { return xattrOps.removexattr(this.s, ino, name, ctx); }

  /** Flushes every open file (unmount, SIGTERM); resolves with the errors met. */
  async flushAll(): Promise<unknown[]> {
    const results = await Promise.allSettled(this.s.files.all().map((f) => f.flush()));
    return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
  }

  /** Stops background work (orphan renewals), sends the changes still queued and gives the delegated directories back. */
  async close(): Promise<void> {
    this.s.orphans.stop();
    this.locks.close();
    await this.s.delegated?.close();
  }

  /** Bytes of written data held in memory by all open files. */
  writebackMemory(): number {
    return this.memory.inUse;
  }

  /** Read cache hits, misses and bytes held. */
  cacheStats(): ReturnType<BlockCache['stats']> {
    return this.s.blocks.stats();
  }

  /** Open descriptors (for shutdown logging). */
  get openHandles(): number {
    return this.s.handles.size;
  }
}
