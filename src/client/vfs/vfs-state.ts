/** What every VFS operation module works with: the clients, the caches and the open-file tables. */
import type { Logger } from '../../common/log/logger.js';
import type { BlockCache } from '../cache/block-cache.js';
import type { ChunkClient } from '../chunk-client.js';
import type { MetaClient } from '../meta-client.js';
import type { ReadOptions } from '../read/file-reader.js';
import type { WritebackOptions } from '../writeback/file-writer.js';
import type { ChangeQueue } from './change-queue.js';
import type { DelegatedDirs } from './delegated-dirs.js';
import type { DirHandleTable } from './dir-handles.js';
import type { EntryCache } from './entry-cache.js';
import type { HandleTable } from './handles.js';
import type { KernelPages } from './kernel-pages.js';
import type { ListingReadAhead } from './listing-read-ahead.js';
import type { OpenFileTable } from './open-files.js';
import type { OrphanTracker } from './orphans.js';

/**
 * What the kernel caches that the VFS may have to take back. Implemented by the FUSE layer; a VFS
 * used without a mount (tests) has none.
 */
export interface KernelCache {
  /** The kernel's copy of an inode's attributes is stale: drop it now. */
  invalidateAttr(ino: number): void;
}

export interface VfsState {
  meta: MetaClient;
  chunks: ChunkClient;
  entries: EntryCache;
  blocks: BlockCache;
  files: OpenFileTable;
  handles: HandleTable;
  dirs: DirHandleTable;
  /** First pages of directories a tree walk is about to open (absent: every listing asks the master). */
  listingsAhead: ListingReadAhead | undefined;
  orphans: OrphanTracker;
  /** Directories delegated to this mount, and the changes it answered there (absent: the master answers everything). */
  delegated: DelegatedDirs | undefined;
  changes: ChangeQueue | undefined;
  kernel: KernelCache | undefined;
  /** Which files' pages the kernel may keep at open. */
  pages: KernelPages;
  read: ReadOptions;
  writeback: WritebackOptions;
  log: Logger;
}
