/** What every VFS operation module works with: the clients, the caches and the open-file tables. */
import type { Logger } from '../../common/log/logger.js';
import type { BlockCache } from '../cache/block-cache.js';
import type { ChunkClient } from '../chunk-client.js';
import type { MetaClient } from '../meta-client.js';
import type { ReadOptions } from '../read/file-reader.js';
import type { WritebackOptions } from '../writeback/file-writer.js';
import type { EntryCache } from './entry-cache.js';
import type { HandleTable } from './handles.js';
import type { HideTracker } from './hidden-files.js';
import type { OpenFileTable } from './open-files.js';

export interface VfsState {
  meta: MetaClient;
  chunks: ChunkClient;
  entries: EntryCache;
  blocks: BlockCache;
  files: OpenFileTable;
  handles: HandleTable;
  hides: HideTracker;
  read: ReadOptions;
  writeback: WritebackOptions;
  log: Logger;
}

/** The parent directory path of an absolute path. */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
