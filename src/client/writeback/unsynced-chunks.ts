/**
 * The chunks a client wrote without asking for fdatasync, per inode, until an fsync makes them
 * durable. Close and background flushes send data unsynced (every replica has it, the disks may
 * not yet); fsync(2) must then make durable everything written to the file so far, through any
 * descriptor, closed ones included, so the record is kept per inode for the whole client, not per
 * handle.
 *
 * The record is bounded: when an inode falls out, its chunks are synced in the background (an
 * fsync that comes later would otherwise miss them).
 */
import { LRUCache } from 'lru-cache';
import { toErrno } from '../../common/errors/to-errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { ChunkClient } from '../chunk-client.js';
import type { ChunkLocation } from '../types.js';

/**
 * Syncs one chunk on its replicas (an empty WriteChunk stream that asks for sync). A replica that
 * moved the chunk to a newer version (a version change syncs it) or deleted it (the file was cut or
 * removed) leaves nothing of ours to sync.
 */
export async function syncChunk(chunks: ChunkClient, loc: ChunkLocation): Promise<void> {
  try {
    await chunks.writeStream(loc, [], { sync: true });
  } catch (e) {
    const code = toErrno(e);
    if (code !== 'ESTALE' && code !== 'ENOENT') throw e;
  }
}

/** Runs a job on chunk `index` in its turn (after the writes already queued for it). */
export type InTurn = (index: number, job: () => Promise<void>) => Promise<void>;

export class UnsyncedChunks {
  private readonly byIno: LRUCache<number, Map<number, ChunkLocation>>;

  constructor(private readonly chunks: ChunkClient, log: Logger, maxInodes = 100_000) {
    this.byIno = new LRUCache<number, Map<number, ChunkLocation>>({
      max: maxInodes,
      dispose: (evicted, ino, reason) => {
        if (reason !== 'evict') return;
        for (const loc of evicted.values()) {
          syncChunk(chunks, loc).catch((err: unknown) => log.warn('background sync of an unsynced chunk failed', { ino, chunkId: loc.chunkId, err }));
        }
      },
    });
  }

  /** Chunk `loc.index` of `ino` was written at `loc.version` without sync. */
  note(ino: number, loc: ChunkLocation): void {
    let chunks = this.byIno.get(ino);
    if (!chunks) {
      chunks = new Map();
      this.byIno.set(ino, chunks);
    }
    chunks.set(loc.index, loc);
  }

  /** Chunk `index` of `ino` was synced (a sync stream covers every earlier write to it). */
  synced(ino: number, index: number): void {
    const chunks = this.byIno.get(ino);
    chunks?.delete(index);
    if (chunks?.size === 0) this.byIno.delete(ino);
  }

  /** The chunks of `ino` still to sync, forgotten here: the caller syncs them or notes them again. */
  take(ino: number): ChunkLocation[] {
    const chunks = this.byIno.get(ino);
    if (!chunks) return [];
    this.byIno.delete(ino);
    return [...chunks.values()];
  }

  /**
   * Makes durable every chunk of `ino` written without sync so far (fsync). Chunks that fail stay
   * recorded, for the next fsync to try again; the first failure is thrown.
   */
  async sync(ino: number, inTurn: InTurn = (_, job) => job()): Promise<void> {
    const locs = this.take(ino);
    const results = await Promise.allSettled(locs.map((loc) => inTurn(loc.index, () => syncChunk(this.chunks, loc))));
    let failure: unknown;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      failure ??= r.reason;
      this.note(ino, locs[i]!);
    });
    if (failure !== undefined) throw failure;
  }

  /** Inodes with unsynced chunks. */
  get size(): number {
    return this.byIno.size;
  }
}
