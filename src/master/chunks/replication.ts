/**
 * Re-replication (to be filled in): brings chunks back to their goal by copying them from a healthy
 * replica to another chunkserver, and deletes stale replicas. See docs/ARCHITECTURE.md.
 */
import type { fst } from '../../proto-gen/fst.js';
import type { ChunkDeps } from './allocate.js';

export interface ReplicationOptions {
  /** A dead server's replicas are copied elsewhere once it has been dead this long. */
  replaceAfterMs: number;
  /** Most bytes per second that re-replication copies. */
  rateBytesPerSec: number;
  /** Copies running at once. */
  concurrency: number;
  /** Pause between passes over the chunks below goal. */
  intervalMs: number;
}

export class ReplicationManager {
  constructor(
    private readonly deps: ChunkDeps,
    private readonly opts: ReplicationOptions,
  ) {}

  /** A chunkserver reported corrupt replicas (already dropped on its side). */
  noteCorrupt(serverId: number, chunkIds: number[]): void {
    void serverId;
    void chunkIds;
  }

  progress(): fst.IReplicationProgress {
    void this.deps;
    void this.opts;
    return {};
  }

  start(): void {}

  async stop(): Promise<void> {}
}
