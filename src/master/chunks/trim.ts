/**
 * Deleting surplus replicas: copies beyond a lowered goal, copies on a draining (decommissioned)
 * server once the goal is met elsewhere, and the source of a rebalance move once its copy is
 * recorded. Runs under the chunk's lock, so that no allocation hands a writer a replica being
 * deleted, and decides from the rows as they stand inside the lock: two trims of one chunk (the
 * replication pass and a rebalance move) can never take it below its goal together. A chunk under
 * a running lease is left alone. The replica is deleted on its server (version-guarded) before its
 * row goes: a reader handed it meanwhile fails over to another replica.
 */
import type { ChunkDeps } from './chunk-deps.js';
import { assess, surplus, type ServerState } from './replication-plan.js';
import { forgetReplica, loadChunk } from './replication-rows.js';

export interface TrimContext {
  deps: ChunkDeps;
  withChunkLock<T>(ino: number, idx: number, fn: () => Promise<T>): Promise<T>;
  /** How each server counts now (draining, alive, ...). */
  stateOf(now: number): (serverId: number) => ServerState;
}

/** Used fraction of a server's capacity (fullest servers lose their surplus copies first). */
function utilization(deps: ChunkDeps, id: number): number {
  const s = deps.servers.get(id);
  return s && s.capacity > 0 ? s.used / s.capacity : 0;
}

/**
 * Deletes surplus replicas of `chunkId` (only `victim`'s, when given); returns the servers whose
 * replica was deleted. Failures of the delete call propagate (the row stays; a later pass retries).
 */
export async function trimChunk(ctx: TrimContext, chunkId: number, victim?: number): Promise<number[]> {
  const { deps } = ctx;
  // Its lock key (ino, idx) never changes; the rows are read again inside the lock.
  const key = await loadChunk(deps.db.reader, chunkId, Date.now());
  if (!key) return [];
  return ctx.withChunkLock(key.ino, key.idx, async () => {
    const now = Date.now();
    const chunk = await loadChunk(deps.db.reader, chunkId, now);
    if (!chunk) return [];
    const a = assess(chunk, ctx.stateOf(now));
    const n = surplus(a);
    if (a.leased || n <= 0) return [];
    const byFullness = [...a.inService].sort((x, y) => utilization(deps, y) - utilization(deps, x) || y - x);
    const candidates = [...a.draining, ...byFullness];
    // A named victim in service may go only if the goal stays met in service without it (the
    // surplus may come from draining copies alone).
    const victimAllowed = victim !== undefined && (a.draining.includes(victim) || (a.inService.includes(victim) && a.inService.length - 1 >= a.goal));
    const victims = victim === undefined ? candidates.slice(0, n) : victimAllowed ? [victim] : [];
    const deleted: number[] = [];
    for (const id of victims) {
      const address = deps.servers.get(id)?.address;
      if (!address) continue;
      await deps.commands.deleteChunk(address, chunkId, a.version);
      await forgetReplica(deps.db, chunkId, id, a.version);
      deleted.push(id);
    }
    if (deleted.length > 0) deps.log.debug('surplus replicas deleted', { chunkId, version: a.version, goal: a.goal, servers: deleted });
    return deleted;
  });
}
