/**
 * Lazy deletion of chunks whose files are gone: deleting a file only moves its chunks into
 * `deleted_chunks` (one transaction, fast at any size); this loop asks the chunkservers holding them
 * to delete their copies and forgets each chunk once no replica is left. Replicas on dead servers
 * wait: when such a server comes back, its full report shows them as orphans and they are deleted.
 */
import type { Logger } from '../../common/log/logger.js';
import type { MasterDb } from '../db/database.js';
import type { ServerRegistry } from '../servers/registry.js';
import type { ChunkserverCommands } from './chunkserver-commands.js';

const BATCH = 500;

export class ChunkGarbageCollector {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: MasterDb,
    private readonly servers: ServerRegistry,
    private readonly commands: ChunkserverCommands,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.collect().then(() => undefined, (err: unknown) => this.log.warn('gc pass failed', { err })).finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One pass over (a batch of) deleted chunks; returns how many were forgotten entirely. */
  async collect(): Promise<number> {
    const rows = await this.db.reader.all<{ chunk_id: number; server_id: number | null }>(
      `SELECT d.chunk_id, r.server_id FROM (SELECT chunk_id FROM deleted_chunks ORDER BY chunk_id LIMIT ${BATCH}) d
       LEFT JOIN replicas r ON r.chunk_id = d.chunk_id`,
    );
    const removedReplicas: { chunkId: number; serverId: number }[] = [];
    const chunkIds = new Set<number>();
    await Promise.all(rows.map(async (r) => {
      chunkIds.add(r.chunk_id);
      if (r.server_id === null || !this.servers.isAlive(r.server_id)) return;
      try {
        await this.commands.deleteChunk(this.servers.get(r.server_id)!.address, r.chunk_id);
        removedReplicas.push({ chunkId: r.chunk_id, serverId: r.server_id });
      } catch (err) {
        this.log.debug('chunk delete failed; will retry', { chunkId: r.chunk_id, serverId: r.server_id, err });
      }
    }));
    if (chunkIds.size === 0) return 0;
    return this.db.write(async (tx) => {
      for (const r of removedReplicas) await tx.run('DELETE FROM replicas WHERE chunk_id = ? AND server_id = ?', [r.chunkId, r.serverId]);
      let forgotten = 0;
      for (const id of chunkIds) {
        const left = await tx.get('SELECT 1 AS x FROM replicas WHERE chunk_id = ? LIMIT 1', [id]);
        if (!left) {
          await tx.run('DELETE FROM deleted_chunks WHERE chunk_id = ?', [id]);
          await tx.run('DELETE FROM leases WHERE chunk_id = ?', [id]);
          forgotten++;
        }
      }
      return forgotten;
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
