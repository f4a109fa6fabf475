/**
 * A new version and a new lease for an existing chunk: when no lease runs, when a replica is
 * away, or when a writer reports that its write failed (failover).
 *
 * The chunk moves to version+1 on the replicas that answer, so that any replica that missed writes
 * is stale from then on. Replicas are added up to the goal by copying the chunk (at the new
 * version) from one that took the move, before anyone may write again: a write the writer then
 * repeats is acknowledged by as many replicas as the goal asks. The lease goes to the old primary
 * when it took the move, and to another replica only once the old primary cannot hold the old
 * lease any more (leases.ts).
 */
import type { fst } from '../../proto-gen/fst.js';
import { locationOf, type ChunkDeps } from './chunk-deps.js';
import { serversWithVersion, type ChunkRow } from './chunk-rows.js';
import { grantLease, leaseExpiry, leaseOf, outwaitLease, recordLease } from './leases.js';
import { moveVersion, recordMove } from './move-version.js';
import { chooseServers } from './placement.js';

export async function regrant(deps: ChunkDeps, ino: number, idx: number, chunk: ChunkRow, goal: number, failover: boolean): Promise<fst.IChunkLocation> {
  const { chunk_id: chunkId, version } = chunk;
  const newVersion = version + 1;
  const old = await leaseOf(deps.db.reader, chunkId);
  const oldLease = old && old.expires_ms > Date.now() ? old : undefined;
  const holders = (await serversWithVersion(deps.db.reader, chunkId, version)).filter((id) => deps.servers.isAlive(id));
  // Unless a write failed, the lease travels with the move (nobody can write before this answer,
  // copies included): to the old primary if a lease runs (never to another server while the old
  // one may hold it), else to the least loaded holder. After a failure the old primary may be the
  // broken link, so the lease waits for the outcome of the move.
  let leaseTo: number | undefined;
  if (!failover) leaseTo = oldLease ? holders.find((id) => id === oldLease.server_id) : leastLoaded(deps, holders);
  if (leaseTo !== undefined) {
    const to = leaseTo;
    await deps.db.write((tx) => recordLease(tx, chunkId, to, newVersion, leaseExpiry(deps)));
  }
  const moved = await moveVersion(deps, ino, chunkId, version, newVersion, { leaseTo });
  let primary = leaseTo !== undefined && moved.version === newVersion && moved.servers.includes(leaseTo) ? leaseTo : undefined;
  // Replicas lost (dead, or failing the move) are replaced before anyone learns the new chain, so
  // that the next write is acknowledged by as many replicas as the goal asks.
  const have = moved.servers;
  // Copies on a draining server do not count towards the goal (it is being emptied).
  const inService = have.filter((id) => !deps.servers.get(id)?.draining).length;
  const copies = inService < goal ? await addReplicas(deps, chunkId, moved.version, have, goal - inService) : [];
  if (primary === undefined) {
    await outwaitLease(deps, oldLease, have);
    primary = oldLease && have.includes(oldLease.server_id) ? oldLease.server_id : leastLoaded(deps, have)!;
    await grantLease(deps, chunkId, moved.version, primary);
  }
  const all = { servers: [...have, ...copies], version: moved.version };
  await deps.db.write((tx) => recordMove(tx, chunkId, version, all));
  if (failover || copies.length > 0) deps.log.info('new replica set for writing', { chunkId, version: all.version, kept: have, copied: copies, primary });
  return locationOf(deps, idx, chunkId, all.version, all.servers, primary);
}

function leastLoaded(deps: ChunkDeps, ids: number[]): number | undefined {
  return ids.map((id) => deps.servers.get(id)!).sort((a, b) => a.load - b.load)[0]?.id;
}

/** Copies the chunk from one of `have` to up to `need` other live servers; returns those that took it. */
async function addReplicas(deps: ChunkDeps, chunkId: number, version: number, have: number[], need: number): Promise<number[]> {
  const source = deps.servers.get(have[0]!)!.address;
  const tried = new Set(have);
  const added: number[] = [];
  // Two rounds: a target that fails is replaced once.
  for (let round = 0; round < 2 && added.length < need; round++) {
    const targets = chooseServers(deps.servers.placeable(), need - added.length, tried).chosen;
    if (targets.length === 0) break;
    for (const t of targets) tried.add(t);
    const results = await Promise.allSettled(targets.map((t) => deps.commands.copyChunk(deps.servers.get(t)!.address, { chunkId, version, source })));
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') added.push(targets[i]!);
      else deps.log.warn('copying a chunk to a new replica failed', { chunkId, serverId: targets[i], err: r.reason });
    });
  }
  if (added.length < need) deps.log.warn('chunk left below its goal after a failed write', { chunkId, replicas: have.length + added.length, missing: need - added.length });
  return added;
}
