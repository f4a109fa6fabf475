/**
 * Open chunks stay open in a small LRU between operations, so that a write stream does not reopen
 * its chunk for every message. Every call is made under the chunk's lock (ChunkLocks); a chunk
 * evicted over the limit is closed under its own lock, in the background.
 */
import type { Logger } from '../../common/log/logger.js';
import { ChunkFile } from './chunk-file.js';
import type { ChunkLocks } from './chunk-locks.js';
import type { ChunkPaths } from './layout.js';

export class OpenChunks {
  private readonly open = new Map<number, ChunkFile>();
  private readonly closing = new Set<number>();

  constructor(private readonly locks: ChunkLocks, private readonly maxOpen: number, private readonly log: Logger) {}

  /** The chunk's open file, opened from `paths` when it is not open (ChunkFile.open's errors). */
  async get(chunkId: number, paths: ChunkPaths): Promise<ChunkFile> {
    let f = this.open.get(chunkId);
    if (f) this.open.delete(chunkId);
    else f = await ChunkFile.open(paths, chunkId);
    this.add(chunkId, f);
    return f;
  }

  /** Keeps `f` open as the most recently used chunk. */
  add(chunkId: number, f: ChunkFile): void {
    this.open.set(chunkId, f);
    this.evictIdle(chunkId);
  }

  /** Closes the chunk if open, writing its pending meta record. */
  async close(chunkId: number): Promise<void> {
    const f = this.open.get(chunkId);
    if (!f) return;
    this.open.delete(chunkId);
    await f.close();
  }

  /** Closes the chunk if open without writing anything (a corrupt copy stays as it was found). */
  async discard(chunkId: number): Promise<void> {
    const f = this.open.get(chunkId);
    if (!f) return;
    this.open.delete(chunkId);
    await f.abandon();
  }

  /** Closes every open chunk, each under its lock. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((id) => this.locks.run(id, () => this.close(id))));
  }

  /** Closes the least recently used chunks over the limit, each under its own lock. */
  private evictIdle(keep: number): void {
    let excess = this.open.size - this.maxOpen;
    for (const victim of this.open.keys()) {
      if (excess-- <= 0) break;
      if (victim === keep || this.closing.has(victim)) continue;
      this.closing.add(victim);
      this.locks.run(victim, () => this.close(victim))
        .catch((err: unknown) => this.log.warn('closing chunk failed', { chunkId: victim, err }))
        .finally(() => this.closing.delete(victim));
    }
  }
}
