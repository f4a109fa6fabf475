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
 */
import { FsError } from '../../common/errors/errno.js';
import { toErrno } from '../../common/errors/to-errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { ChunkClient } from '../chunk-client.js';
import { Limiter } from '../concurrency.js';
import type { MetaClient } from '../meta-client.js';
import type { ChunkLocation } from '../types.js';
import type { ChunkJob } from './write-buffer.js';

export class ChunkWriter {
  private readonly allocations = new Map<number, Promise<ChunkLocation>>();
  private readonly tails = new Map<number, Promise<void>>();
  private readonly limiter: Limiter;

  constructor(
    private readonly meta: MetaClient,
    private readonly chunks: ChunkClient,
    private readonly ino: number,
    parallelChunks: number,
    private readonly log: Logger,
  ) {
    this.limiter = new Limiter(parallelChunks);
  }

  /** Writes `job` once every job submitted earlier for the same chunk has ended. */
  submit(job: ChunkJob): Promise<void> {
    const before = this.tails.get(job.index) ?? Promise.resolve();
    // The slot is taken only once the chunk's turn comes, so waiting jobs do not block other chunks.
    const run = before.then(() => this.limiter.run(() => this.write(job)));
    const tail = run.then(() => {}, () => {});
    this.tails.set(job.index, tail);
    void tail.then(() => {
      if (this.tails.get(job.index) === tail) this.tails.delete(job.index);
    });
    return run;
  }

  /** Forgets every cached allocation (after a truncate, whose versions moved on). */
  forgetAllocations(): void {
    this.allocations.clear();
  }

  private allocation(index: number): Promise<ChunkLocation> {
    let p = this.allocations.get(index);
    if (!p) {
      p = this.meta.allocateChunk(this.ino, index).then((loc) => {
        if (loc.replicas.length === 0) throw new FsError('ENOSPC', `chunk ${index} of inode ${this.ino}: no chunkserver to write to`);
        return loc;
      });
      this.allocations.set(index, p);
      // A failed allocation must not be cached: the next flush asks again.
      p.catch(() => {
        if (this.allocations.get(index) === p) this.allocations.delete(index);
      });
    }
    return p;
  }

  private async write(job: ChunkJob): Promise<void> {
    const first = this.allocation(job.index);
    const loc = await first;
    try {
      await this.chunks.writeStream(loc, job.pieces);
    } catch (e) {
      if (toErrno(e) !== 'ESTALE') throw e;
      this.log.debug('chunk version moved on: allocating again', { ino: this.ino, index: job.index, version: loc.version });
      if (this.allocations.get(job.index) === first) this.allocations.delete(job.index);
      await this.chunks.writeStream(await this.allocation(job.index), job.pieces);
    }
  }
}
