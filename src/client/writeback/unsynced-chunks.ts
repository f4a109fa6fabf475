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
import type { MetaClient } from '../meta-client.js';
import type { ChunkLocation } from '../types.js';

/** Deadline of a failover allocation: the master may wait for an old lease (60 s by default) to end. */
export const FAILOVER_TIMEOUT_MS = 180_000;

/** Asks the master for a new replica set of a chunk whose chain failed at `loc.version`. */
export type ReplaceChain = (ino: number, loc: ChunkLocation) => Promise<unknown>;

/** ReplaceChain through AllocateChunk's failover (which may wait out an unreachable primary's lease). */
export function replaceChainVia(meta: MetaClient): ReplaceChain {
  return (ino, loc) => meta.allocateChunk(ino, loc.index, { failedVersion: loc.version, timeoutMs: FAILOVER_TIMEOUT_MS });
}

/**
 * Syncs one chunk on its replicas (a WriteRange commit alone that asks for sync). A replica that
 * moved the chunk to a newer version (a version change syncs it) leaves nothing of ours to sync.
 * When the chain is broken (a replica gone or missing the chunk), `replace` has the master move the
 * chunk to the replicas that answer and copy it to new ones: a version move syncs each replica that
 * takes it, and a copy is synced when installed, so the new set is durable without another stream.
 * A chunk the master no longer has (the file was cut or removed) needs nothing.
 */
export async function syncChunk(chunks: ChunkClient, ino: number, loc: ChunkLocation, replace?: ReplaceChain): Promise<void> {
  const gone = (code: string): boolean => code === 'ESTALE' || code === 'ENOENT';
  try {
    await chunks.writeStream(loc, [], { sync: true });
  } catch (e) {
    const code = toErrno(e);
    if (code === 'ESTALE') return;
    if (!replace) {
      if (gone(code)) return;
      throw e;
    }
    try {
      await replace(ino, loc);
    } catch (e2) {
      if (!gone(toErrno(e2))) throw e2;
    }
  }
}

/** Runs a job on chunk `index` in its turn (after the writes already queued for it). */
export type InTurn = (index: number, job: () => Promise<void>) => Promise<void>;

export interface UnsyncedChunksOptions {
  /** Inodes remembered; the least recently written beyond it are synced in the background. @default 100000 */
  maxInodes?: number;
  /** Replaces a broken chain when a sync fails (see syncChunk). */
  replace?: ReplaceChain;
}

export class UnsyncedChunks {
  private readonly byIno: LRUCache<number, Map<number, ChunkLocation>>;

  private readonly replace: ReplaceChain | undefined;

  constructor(private readonly chunks: ChunkClient, log: Logger, opts: UnsyncedChunksOptions = {}) {
    this.replace = opts.replace;
    const replace = opts.replace;
    this.byIno = new LRUCache<number, Map<number, ChunkLocation>>({
      max: opts.maxInodes ?? 100_000,
      dispose: (evicted, ino, reason) => {
        if (reason !== 'evict') return;
        for (const loc of evicted.values()) {
          syncChunk(chunks, ino, loc, replace).catch((err: unknown) => log.warn('background sync of an unsynced chunk failed', { ino, chunkId: loc.chunkId, err }));
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
    const results = await Promise.allSettled(locs.map((loc) => inTurn(loc.index, () => syncChunk(this.chunks, ino, loc, this.replace))));
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
