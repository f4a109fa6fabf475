/**
 * The master's chunk operations behind one object: allocation, location, commits, truncation and
 * garbage collection. Operations on one file's chunks that change versions are serialized per
 * (inode, chunk index) so that two version bumps of one chunk never race.
 */
import type { fst } from '../../proto-gen/fst.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import type { Logger } from '../../common/log/logger.js';
import type { Credentials } from '../../common/security/credentials-file.js';
import type { MasterDb } from '../db/database.js';
import type { ServerRegistry } from '../servers/registry.js';
import { getInode } from '../tree/inode-row.js';
import { allocateChunk, type Allocation } from './allocate.js';
import type { ChunkDeps } from './chunk-deps.js';
import { ChunkserverCommands } from './chunkserver-commands.js';
import { commitWrite } from './commit-write.js';
import { ChunkGarbageCollector } from './gc.js';
import { KeyMutex } from './key-mutex.js';
import { locateChunks } from './locate.js';
import { Rebalancer } from './rebalance.js';
import { ReplicationManager, type ReplicationOptions } from './replication.js';
import { cutBoundaryChunk } from './truncate.js';

export interface ChunkManagerOptions extends ReplicationOptions {
  /** Pause between garbage collection passes. */
  gcIntervalMs: number;
  /** How long a primary's lease lasts from its grant or last extension. */
  leaseMs: number;
  /** The master's credential, for TLS to chunkservers; undefined: plaintext (`--insecure`). */
  tls?: Credentials;
}

export class ChunkManager {
  readonly deps: ChunkDeps;
  private readonly locks = new KeyMutex<string>();
  readonly gc: ChunkGarbageCollector;
  readonly replication: ReplicationManager;
  readonly rebalancer: Rebalancer;

  constructor(db: MasterDb, servers: ServerRegistry, log: Logger, opts: ChunkManagerOptions) {
    const commands = new ChunkserverCommands(undefined, opts.tls);
    this.deps = { db, servers, commands, log, leaseMs: opts.leaseMs };
    this.gc = new ChunkGarbageCollector(db, servers, commands, opts.gcIntervalMs, log);
    this.replication = new ReplicationManager(this.deps, opts, (ino, idx, fn) => this.withChunkLock(ino, idx, fn));
    this.rebalancer = new Rebalancer(this.deps, this.replication, { rateBytesPerSec: opts.rateBytesPerSec, concurrency: opts.concurrency, intervalMs: opts.intervalMs });
  }

  /**
   * Runs `fn` while no allocation, truncation or other replica change of chunk (ino, idx) runs:
   * what removes a replica holds it, so that no writer is handed a replica being deleted.
   */
  withChunkLock<T>(ino: number, idx: number, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(`${ino}:${idx}`, fn);
  }

  /** `failedVersion`: the caller's write at that version failed (see AllocateChunkRequest). */
  allocate(ino: number, idx: number, failedVersion = 0): Promise<Allocation> {
    return this.locks.run(`${ino}:${idx}`, () => allocateChunk(this.deps, ino, idx, failedVersion));
  }

  locate(ino: number, offset: number, length: number): Promise<fst.ILocateChunksResponse> {
    return locateChunks(this.deps, ino, offset, length);
  }

  commitWrite(ino: number, end: number, mtime: fst.ITimespec | null | undefined, sync = false): Promise<fst.IAttr> {
    return commitWrite(this.deps.db, ino, end, mtime, sync);
  }

  /** Cuts the boundary chunk on the chunkservers, then runs `applyToNamespace` (size + dropped chunks). */
  async truncate<T>(ino: number, newSize: number, applyToNamespace: () => Promise<T>): Promise<T> {
    const inode = await getInode(this.deps.db.reader, ino);
    const idx = Math.floor(Math.min(inode.size, newSize) / CHUNK_SIZE);
    return this.locks.run(`${ino}:${idx}`, async () => {
      await cutBoundaryChunk(this.deps, ino, newSize);
      return applyToNamespace();
    });
  }

  start(): void {
    this.gc.start();
    this.replication.start();
    this.rebalancer.resume().catch((err: unknown) => this.deps.log.warn('could not resume the rebalance job', { err }));
  }

  async stop(): Promise<void> {
    await this.rebalancer.close();
    await this.replication.stop();
    await this.gc.stop();
    this.deps.commands.close();
  }
}
