/**
 * A new chunk: recorded in SQLite first (so that a chunk report can never find it unknown and
 * delete it as an orphan), with the lease its primary is about to get, then created on every
 * chosen chunkserver at version 1 in parallel, the primary with the lease. A server that fails is
 * replaced by another, so that the first write already reaches the goal's number of replicas.
 * Each replica records the chunk's owner (inode, index, and one path of the file now) in its meta
 * file, what `fstadmin metadata rebuild` regroups chunks by if this metadata is ever lost.
 */
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { answeredErrno } from '../../common/errors/rpc-status.js';
import { locationOf, type ChunkDeps } from './chunk-deps.js';
import { bumpCounter } from './chunk-rows.js';
import { grantLease, leaseExpiry, recordLease } from './leases.js';
import { moveVersion, recordMove, REFUSED } from './move-version.js';
import { chooseServers } from './placement.js';
import { pathOf } from '../tree/paths.js';

/** Rounds of choosing replacements for servers that failed to create the chunk. */
const MAX_ROUNDS = 3;

export async function createChunk(deps: ChunkDeps, ino: number, idx: number, goal: number): Promise<fst.IChunkLocation> {
  const alive = deps.servers.placeable();
  if (alive.length < goal && deps.servers.settling()) throw new FsError('EAGAIN', 'chunkservers have not reconnected since the master started');
  if (alive.length === 0) throw new FsError('EIO', 'no chunkserver is alive and in service');
  const first = chooseServers(alive, goal);
  const primaryCandidate = first.chosen[0];
  if (primaryCandidate === undefined) throw new FsError('ENOSPC', `no chunkserver has room for a chunk (${first.full} full)`);
  const chunkId = await deps.db.write(async (tx) => {
    const owner = await tx.get('SELECT ino FROM inodes WHERE ino = ?', [ino]);
    if (!owner) throw new FsError('ENOENT', `inode ${ino} was removed`);
    const counter = await tx.get<{ value: number }>("SELECT value FROM counters WHERE name = 'next_chunk_id'");
    let id = counter!.value;
    // Ids that chunkservers reported before this metadata issued them are not issued (see
    // servers/chunk-reports.ts): some server may keep old bytes under them.
    while (await tx.get('SELECT 1 AS x FROM foreign_chunks WHERE chunk_id = ?', [id])) id++;
    await tx.run("UPDATE counters SET value = ? WHERE name = 'next_chunk_id'", [id + 1]);
    await tx.run('INSERT INTO chunks (ino, idx, chunk_id, version) VALUES (?, ?, ?, 1)', [ino, idx, id]);
    await bumpCounter(tx, 'chunks', 1);
    await recordLease(tx, id, primaryCandidate, 1, leaseExpiry(deps));
    return id;
  });
  // Read after the chunk row (a rename meanwhile is as good as one after): the path is only ever
  // the file's last known one.
  const owner = { ino, index: idx, path: (await pathOf(deps.db.reader, ino)) ?? '' };

  let primary: number | undefined;
  const created: number[] = [];
  const tried = new Set<number>();
  let candidates = first.chosen;
  let lastError: unknown;
  // A creation that timed out may still happen: that server would then hold an empty version 1
  // that a chunk report could make look current.
  let unknownOutcome = false;
  for (let round = 0; round < MAX_ROUNDS && candidates.length > 0; round++) {
    // Only the first candidate ever gets the lease recorded above; a replacement primary is
    // granted one later, with its own record.
    const leaseTo = primary === undefined && round === 0 ? candidates[0] : undefined;
    for (const id of candidates) tried.add(id);
    const results = await Promise.allSettled(candidates.map((id) => deps.commands.setVersion(deps.servers.get(id)!.address, {
      chunkId, version: 0, newVersion: 1, create: true, leaseMs: id === leaseTo ? deps.leaseMs : undefined, owner,
    })));
    results.forEach((r, i) => {
      const id = candidates[i]!;
      if (r.status === 'fulfilled') {
        created.push(id);
        if (id === leaseTo) primary = id;
      } else {
        lastError = r.reason;
        const answered = answeredErrno(r.reason);
        if (!answered || !REFUSED.has(answered)) unknownOutcome = true;
        deps.log.warn('chunk creation failed; choosing another server', { chunkId, serverId: id, outcome: answered ?? 'unknown', err: r.reason });
      }
    });
    if (created.length >= goal) break;
    candidates = chooseServers(deps.servers.placeable(), goal - created.length, tried).chosen;
  }
  if (created.length === 0) {
    await deps.db.write(async (tx) => {
      await tx.run('DELETE FROM chunks WHERE chunk_id = ?', [chunkId]);
      await tx.run('DELETE FROM leases WHERE chunk_id = ?', [chunkId]);
      await bumpCounter(tx, 'chunks', -1);
    });
    throw new FsError('EIO', `chunk ${idx} of inode ${ino}: no chunkserver could create it`, { cause: lastError });
  }
  await deps.db.write(async (tx) => {
    // A chunk report may have recorded a replica already: keep its row (and report generation).
    for (const id of created) await tx.run('INSERT INTO replicas (chunk_id, server_id, version) VALUES (?, ?, 1) ON CONFLICT DO NOTHING', [chunkId, id]);
  });
  let version = 1;
  let holders = created;
  if (unknownOutcome) {
    // Fenced off: the servers that did create it move to version 2 (no lease in the move).
    const moved = await moveVersion(deps, ino, chunkId, 1, 2);
    await deps.db.write((tx) => recordMove(tx, chunkId, 1, moved));
    ({ version, servers: holders } = moved);
    primary = undefined;
  }
  if (primary === undefined) {
    // The first choice failed or was fenced: the lease is granted now (recorded, then sent).
    primary = holders[0]!;
    await grantLease(deps, chunkId, version, primary);
  }
  return locationOf(deps, idx, chunkId, version, holders, primary);
}
