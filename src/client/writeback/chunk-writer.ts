/**
 * ChunkWriter: sends the dirty pieces of one chunk to the chunkservers, for one file handle.
 *
 * - The answer of AllocateChunk (chain, version, lease) is cached per chunk index; it is asked for
 *   again once half the primary's lease has passed, which extends the lease without a new version.
 * - A write whose chain fails is retried on a new chain (see write()), so that the application sees
 *   no error while the master can form a replica set; ENOSPC and errors of the request itself are
 *   final.
 * - Jobs on the same chunk run in the order they were submitted, so a later flush's bytes land
 *   after an earlier flush's; jobs on different chunks run in parallel, bounded by a Limiter.
 * - Writes not asked to sync are recorded in UnsyncedChunks until an fsync syncs them.
 */
import { FsError } from '../../common/errors/errno.js';
import { toErrno } from '../../common/errors/to-errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { ChunkClient } from '../chunk-client.js';
import { Limiter } from '../concurrency.js';
import type { MetaClient } from '../meta-client.js';
import type { ChunkLocation } from '../types.js';
import { FAILOVER_TIMEOUT_MS, type UnsyncedChunks } from './unsynced-chunks.js';
import type { ChunkJob } from './write-buffer.js';

/** An allocation cached by the handle. */
interface Allocation {
  loc: ChunkLocation;
  /** When the master answered, and how long the primary's lease runs from then (0: no lease). */
  at: number;
  leaseMs: number;
}

/** Attempts at one chunk job before its error reaches the application. */
const MAX_ATTEMPTS = 6;

/**
 * Errors a new replica set cannot fix: the disk is full, the request is wrong, the file is too big.
 * Anything else from a chain (a replica gone, timed out, refusing, missing the chunk) is retried.
 */
const FINAL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EINVAL', 'EROFS']);

/** Allocation errors worth asking again for (see write()). */
const RETRY_ALLOCATION = new Set(['ESTALE', 'ETIMEDOUT', 'EAGAIN', 'EIO']);

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const backoffMs = (attempt: number): number => Math.min(2_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);

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

  /**
   * The cached allocation of chunk `index`, asked for again when there is none, when its lease is
   * half gone (the master extends it) or, with `failedVersion`, to replace a failed chain.
   */
  private allocation(index: number, failedVersion = 0): Promise<Allocation> {
    const p = this.allocations.get(index);
    if (p && failedVersion === 0) return p.then((a) => (a.leaseMs > 0 && Date.now() - a.at > a.leaseMs / 2 ? this.allocate(index, 0) : a));
    return this.allocate(index, failedVersion);
  }

  private allocate(index: number, failedVersion: number): Promise<Allocation> {
    // Any allocation may wait for an unreachable primary's lease to run out.
    const timeoutMs = FAILOVER_TIMEOUT_MS;
    const p = this.meta.allocateChunk(this.ino, index, { failedVersion, timeoutMs }).then((a) => {
      if (a.loc.replicas.length === 0) throw new FsError('ENOSPC', `chunk ${index} of inode ${this.ino}: no chunkserver to write to`);
      return { ...a, at: Date.now() };
    });
    this.allocations.set(index, p);
    // A failed allocation must not be cached: the next flush asks again.
    p.catch(() => {
      if (this.allocations.get(index) === p) this.allocations.delete(index);
    });
    return p;
  }

  /**
   * Sends a job, retrying on a new chain when the chain fails: ESTALE (the version moved on: another
   * writer, a truncate, an expired lease) asks the master again; any other chain failure reports the
   * failed version, so that the master moves the chunk to the replicas that still answer and adds
   * new ones. The job's pieces are all sent again each time: a failed stream may have landed on
   * some replicas and not others.
   */
  private async write(job: ChunkJob, sync: boolean): Promise<void> {
    let failedVersion = 0;
    for (let attempt = 1; ; attempt++) {
      let alloc: Allocation;
      try {
        alloc = await this.allocation(job.index, failedVersion);
      } catch (e) {
        // The master's own refusals are final; a version that moved on meanwhile, a master busy
        // waiting out a lease or restarting, or no replica set yet, are worth another try.
        if (!RETRY_ALLOCATION.has(toErrno(e)) || attempt >= MAX_ATTEMPTS) throw e;
        await pause(backoffMs(attempt));
        continue;
      }
      try {
        await this.send(alloc, job, sync);
        return;
      } catch (e) {
        const code = toErrno(e);
        if (FINAL.has(code) || attempt >= MAX_ATTEMPTS) throw e;
        failedVersion = code === 'ESTALE' ? 0 : alloc.loc.version;
        const fields = { ino: this.ino, index: job.index, version: alloc.loc.version, chain: alloc.loc.replicas.map((r) => r.address), code, attempt, err: e };
        if (code === 'ESTALE') this.log.debug('chunk version moved on: allocating again', fields);
        else this.log.warn('chunk write failed; retrying on a new chain', fields);
        const cached = this.allocations.get(job.index);
        if (cached && (await cached.catch(() => undefined)) === alloc) this.allocations.delete(job.index);
        if (failedVersion > 0) await pause(backoffMs(attempt));
      }
    }
  }

  private async send(alloc: Allocation, job: ChunkJob, sync: boolean): Promise<void> {
    await this.chunks.writeStream(alloc.loc, job.pieces, { sync });
    if (sync) this.unsynced.synced(this.ino, job.index);
    else this.unsynced.note(this.ino, alloc.loc);
  }
}
