/**
 * What the master asks of chunkservers (SetChunkVersion, DeleteChunk), over one pooled client per
 * server. Calls are short and never retried here: the caller decides what a failure means.
 */
import { RpcClientPool } from '../../common/rpc/client.js';
import { ChunkserverMethods } from '../../common/rpc/services.js';

export class ChunkserverCommands {
  private readonly pool = new RpcClientPool({ timeoutMs: 10_000, retryForMs: 0 });

  setVersion(
    address: string,
    req: { chunkId: number; version: number; newVersion: number; create?: boolean; truncateLength?: number },
  ): Promise<{ length: number }> {
    return this.pool.get(address).unary(ChunkserverMethods.SetChunkVersion, {
      chunkId: req.chunkId,
      version: req.version,
      newVersion: req.newVersion,
      create: req.create ?? false,
      truncate: req.truncateLength !== undefined,
      truncateLength: req.truncateLength ?? 0,
    });
  }

  async deleteChunk(address: string, chunkId: number): Promise<void> {
    await this.pool.get(address).unary(ChunkserverMethods.DeleteChunk, { chunkId });
  }

  close(): void {
    this.pool.close();
  }
}
