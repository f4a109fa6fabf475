/**
 * Moving a chunk to a new version on its live up-to-date replicas: how the master makes every
 * replica that misses a change stale (a new lease, truncate's cut, a failed write). A replica that
 * does not take the move keeps the old version and is never handed out again.
 *
 * A call whose outcome is unknown (timed out, connection lost: the chunkserver may still apply it)
 * must not leave that replica able to claim the new version later with a chunk report while the
 * others go on without it: the replicas that did confirm are moved once more, past any version the
 * unknown one can hold ("fencing").
 */
import { FsError } from '../../common/errors/errno.js';
import { answeredErrno } from '../../common/errors/rpc-status.js';
import type { Tx } from '../db/engine.js';
import type { ChunkDeps } from './chunk-deps.js';
import { serversWithVersion } from './chunk-rows.js';

export interface MoveOptions {
  /** Cut the chunk to this many bytes too. */
  truncateLength?: number;
  /** Grant this holder the lease at the new version in the same call. */
  leaseTo?: number;
}

export interface Moved {
  /** Servers holding the chunk at `version` now. */
  servers: number[];
  /** The version reached: the one asked for, or later if fencing was needed. */
  version: number;
}

/** Errnos with which a chunkserver refuses a version change or creation before changing anything. */
export const REFUSED: ReadonlySet<string> = new Set(['ENOENT', 'ESTALE', 'EEXIST', 'EINVAL', 'ENOSPC']);

/** Rounds of fencing before giving up. */
const MAX_FENCES = 3;

/**
 * Moves a chunk from `version` to `newVersion` (or later, see above) on its live up-to-date
 * replicas; throws EIO when none took it, EAGAIN while a holder may only be late after a master
 * restart (moving on without it would make its good replica stale).
 */
export async function moveVersion(deps: ChunkDeps, ino: number, chunkId: number, version: number, newVersion: number, opts: MoveOptions = {}): Promise<Moved> {
  const all = await serversWithVersion(deps.db.reader, chunkId, version);
  if (deps.servers.settling() && all.some((id) => !deps.servers.isAlive(id))) {
    throw new FsError('EAGAIN', `chunk ${chunkId}: its replicas have not all reconnected since the master started`);
  }
  const holders = all.filter((id) => deps.servers.isAlive(id));
  if (holders.length === 0) throw new FsError('EIO', `chunk ${chunkId} of inode ${ino} has no live up-to-date replica`);
  let from = version;
  let to = newVersion;
  let servers = holders;
  for (let round = 0; ; round++) {
    // A fencing round grants no lease (and so ends the one just granted): the lease's recorded
    // expiry was computed for the first round's call; the caller grants it again afterwards.
    const { took, unknown } = await moveOnce(deps, chunkId, servers, from, to, round === 0 ? opts : {});
    if (took.length === 0) throw new FsError('EIO', `chunk ${chunkId}: no replica accepted version ${to}`);
    if (!unknown) return { servers: took, version: to };
    if (round + 1 >= MAX_FENCES) throw new FsError('EIO', `chunk ${chunkId}: version changes keep timing out`);
    deps.log.warn('version change outcome unknown on a replica; moving the others past it', { chunkId, version: to });
    from = to;
    to += 1;
    servers = took;
  }
}

async function moveOnce(deps: ChunkDeps, chunkId: number, servers: number[], version: number, newVersion: number, opts: MoveOptions): Promise<{ took: number[]; unknown: boolean }> {
  const { truncateLength, leaseTo } = opts;
  // Recorded before any replica hears of it: a report of this version after a master crash is
  // then known as one the master issued (servers/chunk-reports.ts).
  await deps.db.write((tx) => tx.run('UPDATE chunks SET version_ceiling = MAX(version_ceiling, ?) WHERE chunk_id = ?', [newVersion, chunkId]));
  const results = await Promise.allSettled(servers.map((id) => deps.commands.setVersion(deps.servers.get(id)!.address, {
    chunkId, version, newVersion, truncateLength, leaseMs: id === leaseTo ? deps.leaseMs : undefined,
  })));
  let unknown = false;
  const took: number[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      took.push(servers[i]!);
      return;
    }
    const answered = answeredErrno(r.reason);
    if (!answered || !REFUSED.has(answered)) unknown = true;
    deps.log.warn('version change failed; replica left stale', { chunkId, serverId: servers[i], outcome: answered ?? 'unknown', err: r.reason });
  });
  return { took, unknown };
}

/**
 * Records a move in the same transaction as the caller's other changes: the chunk's version, and
 * each server that took it. A chunk report may already have carried the new version here (the
 * master adopts newer versions it hears of): up to `newVersion` is ours; beyond it someone else
 * moved the chunk, and the caller's view is stale.
 */
export async function recordMove(tx: Tx, chunkId: number, version: number, moved: Moved): Promise<void> {
  const r = await tx.run('UPDATE chunks SET version = ? WHERE chunk_id = ? AND version BETWEEN ? AND ?', [moved.version, chunkId, version, moved.version]);
  if (r.changes !== 1) throw new FsError('ESTALE', `chunk ${chunkId} changed while its version moved`);
  for (const id of moved.servers) {
    await tx.run(
      `INSERT INTO replicas (chunk_id, server_id, version) VALUES (?, ?, ?)
       ON CONFLICT (chunk_id, server_id) DO UPDATE SET version = excluded.version`,
      [chunkId, id, moved.version],
    );
  }
}
