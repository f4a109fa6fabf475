/**
 * The filesystem as FUSE sees it, independent of FUSE: one method per FUSE operation, named after
 * it, taking paths (fuse-native's high-level API is path-based) and an OpContext, returning typed
 * results and throwing FsError. Built on interfaces only (MetaClient, ChunkClient), so it is tested
 * without a mount; `client/fuse/adapter.ts` only converts arguments and errnos.
 */
import type { Logger } from '../../common/log/logger.js';
import type { ChunkClient } from '../chunk-client.js';
import type { MetaClient } from '../meta-client.js';
import type { ReadOptions } from '../read/file-reader.js';
import type { Attr } from '../types.js';
import type { WritebackOptions } from '../writeback/file-writer.js';
import { BlockCache } from '../cache/block-cache.js';
import { replaceChainVia, UnsyncedChunks } from '../writeback/unsynced-chunks.js';
import { MemoryBudget } from '../writeback/memory-budget.js';
import { EntryCache } from './entry-cache.js';
import { HandleTable } from './handles.js';
import { HideTracker } from './hidden-files.js';
import * as attrOps from './ops-attr.js';
import * as dirOps from './ops-dir.js';
import * as fileOps from './ops-file.js';
import * as nameOps from './ops-names.js';
import * as xattrOps from './ops-xattr.js';
import type { OpContext } from './op-context.js';
import { OpenFileTable } from './open-files.js';
import { parentPath, type VfsState } from './vfs-state.js';

export interface VfsOptions {
  meta: MetaClient;
  chunks: ChunkClient;
  log: Logger;
  /** How long a path's attributes are trusted without asking the master. @default 1000 */
  entryTtlMs?: number;
  /** Bytes of file data the shared read cache holds. @default 268435456 (256 MiB) */
  cacheBytes?: number;
  read?: ReadOptions;
  writeback?: WritebackOptions;
  /** Write-back memory of all open files together. @default 536870912 (512 MiB) */
  writebackMemoryBytes?: number;
}

export class Vfs {
  private readonly s: VfsState;
  private readonly memory: MemoryBudget;

  constructor(o: VfsOptions) {
    const writeback = o.writeback ?? {};
    this.memory = new MemoryBudget(o.writebackMemoryBytes ?? 512 * 1024 * 1024);
    const entries = new EntryCache(o.meta, o.entryTtlMs ?? 1000);
    const hides = new HideTracker(o.meta, o.log, (path, dirAttr) => {
      entries.forget(path);
      entries.dirChanged(parentPath(path), dirAttr);
    });
    this.s = {
      meta: o.meta,
      chunks: o.chunks,
      entries,
      blocks: new BlockCache(o.cacheBytes ?? 256 * 1024 * 1024),
      files: new OpenFileTable({
        meta: o.meta, chunks: o.chunks, writeback, log: o.log, onAttr: (a) => entries.update(a),
        memory: this.memory, unsynced: new UnsyncedChunks(o.chunks, o.log, { replace: replaceChainVia(o.meta) }),
      }),
      handles: new HandleTable(),
      hides,
      read: o.read ?? {},
      writeback,
      log: o.log,
    };
  }

  /** stat(2) of a path. */
  getattr(path: string): Promise<Attr> { return this.pathOp(() => attrOps.getattr(this.s, path)); }
  /** fstat(2) of an open descriptor. */
  fgetattr(fh: number): Promise<Attr> { return attrOps.fgetattr(this.s, fh); }
  /** access(2). */
  access(path: string): Promise<void> { return this.pathOp(() => attrOps.access(this.s, path)); }
  /** chmod(2). */
  chmod(path: string, mode: number, ctx: OpContext): Promise<void> { return this.pathOp(() => attrOps.chmod(this.s, path, mode, ctx)); }
  /** chown(2); -1 leaves an id unchanged. */
  chown(path: string, uid: number, gid: number, ctx: OpContext): Promise<void> { return this.pathOp(() => attrOps.chown(this.s, path, uid, gid, ctx)); }
  /** utimensat(2), with UTIME_NOW ('now') and UTIME_OMIT ('omit'). */
  utimens(path: string, atime: attrOps.TimeArg, mtime: attrOps.TimeArg, ctx: OpContext): Promise<void> { return this.pathOp(() => attrOps.utimens(this.s, path, atime, mtime, ctx)); }
  /** truncate(2). */
  truncate(path: string, size: number, ctx: OpContext): Promise<void> { return this.pathOp(() => attrOps.truncate(this.s, path, size, ctx)); }
  /** ftruncate(2). */
  ftruncate(fh: number, size: number, ctx: OpContext): Promise<void> { return attrOps.ftruncate(this.s, fh, size, ctx); }
  /** statfs(2). */
  statfs(): Promise<attrOps.StatfsView> { return this.pathOp(() => attrOps.statfs(this.s)); }

  /** readdir(3), with every entry's attributes. */
  readdir(path: string): Promise<dirOps.DirListing> { return this.pathOp(() => dirOps.readdir(this.s, path)); }
  /** mkdir(2). */
  mkdir(path: string, mode: number, ctx: OpContext): Promise<Attr> { return this.pathOp(() => dirOps.mkdir(this.s, path, mode, ctx)); }
  /** rmdir(2). */
  rmdir(path: string, ctx: OpContext): Promise<void> { return this.pathOp(() => dirOps.rmdir(this.s, path, ctx)); }

  /** unlink(2). */
  unlink(path: string, ctx: OpContext): Promise<void> { return this.pathOp(() => nameOps.unlink(this.s, path, ctx)); }
  /** rename(2): atomically replaces an existing target. */
  rename(from: string, to: string, ctx: OpContext): Promise<void> {
    return this.s.hides.settle(to).then(() => nameOps.rename(this.s, from, to, ctx));
  }
  /** link(2). */
  link(existing: string, newPath: string, ctx: OpContext): Promise<Attr> { return this.pathOp(() => nameOps.link(this.s, existing, newPath, ctx)); }
  /** symlink(2): `path` becomes a link to `target`. */
  symlink(target: string, path: string, ctx: OpContext): Promise<Attr> { return this.pathOp(() => nameOps.symlink(this.s, target, path, ctx)); }
  /** readlink(2). */
  readlink(path: string): Promise<string> { return this.pathOp(() => nameOps.readlink(this.s, path)); }
  /** mknod(2). */
  mknod(path: string, mode: number, rdev: number, ctx: OpContext): Promise<Attr> { return this.pathOp(() => nameOps.mknod(this.s, path, mode, rdev, ctx)); }

  /** open(2); returns the descriptor number (fh) and how the kernel should cache it. */
  open(path: string, flags: number): Promise<fileOps.Opened> { return this.pathOp(() => fileOps.open(this.s, path, flags)); }
  /** open(O_CREAT). */
  create(path: string, mode: number, flags: number, ctx: OpContext): Promise<fileOps.Opened> { return this.pathOp(() => fileOps.create(this.s, path, mode, flags, ctx)); }
  /** pread(2). */
  read(fh: number, position: number, length: number): Promise<Buffer> { return fileOps.read(this.s, fh, position, length); }
  /** pwrite(2). */
  write(fh: number, data: Buffer, position: number): Promise<number> { return fileOps.write(this.s, fh, data, position); }
  /** close(2) of one descriptor (may be called several times for dup'ed descriptors). */
  flush(fh: number): Promise<void> { return fileOps.flush(this.s, fh); }
  /** fsync(2). */
  fsync(fh: number): Promise<void> { return fileOps.fsync(this.s, fh); }
  /** The last close of a descriptor. */
  release(fh: number): Promise<void> { return fileOps.release(this.s, fh); }

  /** getxattr(2). */
  getxattr(path: string, name: string): Promise<Buffer> { return this.pathOp(() => xattrOps.getxattr(this.s, path, name)); }
  /** setxattr(2). */
  setxattr(path: string, name: string, value: Buffer, flags: number, ctx: OpContext): Promise<void> { return this.pathOp(() => xattrOps.setxattr(this.s, path, name, value, flags, ctx)); }
  /** listxattr(2). */
  listxattr(path: string): Promise<string[]> { return this.pathOp(() => xattrOps.listxattr(this.s, path)); }
  /** removexattr(2). */
  removexattr(path: string, name: string, ctx: OpContext): Promise<void> { return this.pathOp(() => xattrOps.removexattr(this.s, path, name, ctx)); }

  /** Path operations first complete a pending libfuse hide (see hidden-files.ts). */
  private pathOp<T>(fn: () => Promise<T>): Promise<T> {
    return this.s.hides.settle().then(fn);
  }

  /** Flushes every open file (unmount, SIGTERM); resolves with the errors met. */
  async flushAll(): Promise<unknown[]> {
    const results = await Promise.allSettled(this.s.files.all().map((f) => f.flush()));
    return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
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
