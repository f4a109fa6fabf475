/**
 * ChunkWriter: sends the dirty pieces of one chunk to the chunkservers, for one file handle.
 *
 * - The answer of AllocateChunk is cached per chunk index for the life of the handle: each call
 *   moves the chunk to a new version, so asking once per handle keeps versions (and the master's
 *   work) down.
 * - A write refused with ESTALE (someone else moved the version: another writer, a truncate) drops
 *   the cached allocation, allocates again and retries once.
 * - Jobs on the same chunk run in the order they were submitted, so a later flush's bytes land
 *   after an earlier flush's; jobs on different chunks run in parallel, bounded by a Limiter.
 * - A new chunk (AllocateChunk said `created`) is created by the replicas on its first write.
 * - Writes not asked to sync are recorded in UnsyncedChunks until an fsync syncs them.
 */
import { FsError } from '../../common/errors/errno.js';
import { toErrno } from '../../common/errors/to-errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { ChunkClient } from '../chunk-client.js';
import { Limiter } from '../concurrency.js';
import type { MetaClient } from '../meta-client.js';
import type { ChunkLocation } from '../types.js';
import type { UnsyncedChunks } from './unsynced-chunks.js';
import type { ChunkJob } from './write-buffer.js';

/** An allocation cached for the handle's life; `created` until its first write lands. */
interface Allocation {
  loc: ChunkLocation;
  created: boolean;
}

export class ChunkWriter {
  private readonly allocations = new Map<number, Promise<Allocation>>();
  private readonly tails = new Map<number, Promise<void>>();
  private readonly limiter: Limiter;

  constructor(
    private readonly meta: MetaClient,
    private readonly chunks: ChunkClient,
    private readonly ino: number,
    parallelChunks: number,
    private readonly unsynced: UnsyncedChunks,
    private readonly log: Logger,
  ) {
    this.limiter = new Limiter(parallelChunks);
  }

  /**
   * Writes `job` once every job submitted earlier for the same chunk has ended; with `sync` the
   * replicas fdatasync the chunk before answering, otherwise the chunk is noted as unsynced.
   */
  submit(job: ChunkJob, sync: boolean): Promise<void> {
    return this.inTurn(job.index, () => this.write(job, sync));
  }

  /**
   * Makes durable every chunk of the file written without sync so far, by this writer or an earlier
   * one of the same inode (fsync covers descriptors already closed).
   */
  syncWritten(): Promise<void> {
    return this.unsynced.sync(this.ino, (index, job) => this.inTurn(index, job));
  }

  /** Forgets every cached allocation (after a truncate, whose versions moved on). */
  forgetAllocations(): void {
    this.allocations.clear();
  }

  /** Runs `fn` after everything submitted earlier for chunk `index`, in a parallelism slot. */
  private inTurn<T>(index: number, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(index) ?? Promise.resolve();
    // The slot is taken only once the chunk's turn comes, so waiting jobs do not block other chunks.
    const run = before.then(() => this.limiter.run(fn));
    const tail = run.then(() => {}, () => {});
    this.tails.set(index, tail);
    void tail.then(() => {
      if (this.tails.get(index) === tail) this.tails.delete(index);
    });
    return run;
  }

  private allocation(index: number): Promise<Allocation> {
    let p = this.allocations.get(index);
    if (!p) {
      p = this.meta.allocateChunk(this.ino, index).then((a) => {
        if (a.loc.replicas.length === 0) throw new FsError('ENOSPC', `chunk ${index} of inode ${this.ino}: no chunkserver to write to`);
        return a;
      });
      this.allocations.set(index, p);
      // A failed allocation must not be cached: the next flush asks again.
      p.catch(() => {
        if (this.allocations.get(index) === p) this.allocations.delete(index);
      });
    }
    return p;
  }

  private async write(job: ChunkJob, sync: boolean): Promise<void> {
    const first = this.allocation(job.index);
    let alloc = await first;
    try {
      await this.send(alloc, job, sync);
    } catch (e) {
      if (toErrno(e) !== 'ESTALE') throw e;
      this.log.debug('chunk version moved on: allocating again', { ino: this.ino, index: job.index, version: alloc.loc.version });
      if (this.allocations.get(job.index) === first) this.allocations.delete(job.index);
      alloc = await this.allocation(job.index);
      await this.send(alloc, job, sync);
    }
  }

  private async send(alloc: Allocation, job: ChunkJob, sync: boolean): Promise<void> {
    await this.chunks.writeStream(alloc.loc, job.pieces, { create: alloc.created, sync });
    // Created now: a later stream that found the chunk missing must fail, not make an empty one.
    alloc.created = false;
    if (sync) this.unsynced.synced(this.ino, job.index);
    else this.unsynced.note(this.ino, alloc.loc);
  }
}
