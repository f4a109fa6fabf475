/**
 * What the master asks of chunkservers (SetChunkVersion, CopyChunk, DeleteChunk), over one pooled
 * client per server. Calls are never retried here: the caller decides what a failure means.
 */
import { RpcClientPool } from '../../common/rpc/client.js';
import { ChunkserverMethods } from '../../common/rpc/services.js';

/** A whole chunk may cross a slow link. */
const COPY_TIMEOUT_MS = 10 * 60_000;

export interface SetVersionCommand {
  chunkId: number;
  /** Version it must have now (0 with create). */
  version: number;
  newVersion: number;
  create?: boolean;
  truncateLength?: number;
  /** Make this server the primary at newVersion for this long (0 or absent: no lease). */
  leaseMs?: number;
}

export class ChunkserverCommands {
  private readonly pool: RpcClientPool;

  /** @param timeoutMs deadline of every call but CopyChunk (leases count on it: see leases.ts) */
  constructor(readonly timeoutMs = 10_000) {
    this.pool = new RpcClientPool({ timeoutMs, retryForMs: 0 });
  }

  setVersion(address: string, req: SetVersionCommand): Promise<{ length: number }> {
    return this.pool.get(address).unary(ChunkserverMethods.SetChunkVersion, {
      chunkId: req.chunkId,
      version: req.version,
      newVersion: req.newVersion,
      create: req.create ?? false,
      truncate: req.truncateLength !== undefined,
      truncateLength: req.truncateLength ?? 0,
      leaseMs: req.leaseMs ?? 0,
    });
  }

  /** Has `target` pull the chunk at `version` from `source`; resolves with the bytes copied. */
  async copyChunk(target: string, req: { chunkId: number; version: number; source: string }, signal?: AbortSignal): Promise<number> {
    const res = await this.pool.get(target).unary(ChunkserverMethods.CopyChunk, req, { timeoutMs: COPY_TIMEOUT_MS, signal });
    return Number(res.length);
  }

  /** Deletes the chunk on `address`; with `version`, only a copy at that version (else ESTALE). */
  async deleteChunk(address: string, chunkId: number, version = 0): Promise<void> {
    await this.pool.get(address).unary(ChunkserverMethods.DeleteChunk, { chunkId, version });
  }

  close(): void {
    this.pool.close();
  }
}
