/**
 * Moving a chunk to a new version on its live up-to-date replicas: how the master makes every
 * replica that misses a change stale (a bump before a new lease, truncate's cut). A replica that
 * does not take the move keeps the old version and is never handed out again.
 */
import { FsError } from '../../common/errors/errno.js';
import { toErrno } from '../../common/errors/to-errno.js';
import type { ChunkDeps } from './chunk-deps.js';
import { serversWithVersion } from './chunk-rows.js';

export interface MoveOptions {
  /** Cut the chunk to this many bytes too. */
  truncateLength?: number;
  /** Grant this holder the lease at the new version in the same call. */
  leaseTo?: number;
}

/**
 * Moves a chunk from `version` to `newVersion` on its live up-to-date replicas and returns the
 * servers that took it; throws EIO when none did.
 *
 * A version-1 chunk that no replica holds was allocated but never created (its creation failed, or
 * a chunkserver lost it before syncing): it holds no data, so it is created empty at the new version.
 */
export async function moveVersion(deps: ChunkDeps, ino: number, chunkId: number, version: number, newVersion: number, opts: MoveOptions = {}): Promise<number[]> {
  const { truncateLength, leaseTo } = opts;
  const holders = (await serversWithVersion(deps.db.reader, chunkId, version)).filter((id) => deps.servers.isAlive(id));
  if (holders.length === 0) throw new FsError('EIO', `chunk ${chunkId} of inode ${ino} has no live up-to-date replica`);
  const address = (id: number): string => deps.servers.get(id)!.address;
  const leaseMs = (id: number): number | undefined => (id === leaseTo ? deps.leaseMs : undefined);
  let results = await Promise.allSettled(holders.map((id) =>
    deps.commands.setVersion(address(id), { chunkId, version, newVersion, truncateLength, leaseMs: leaseMs(id) })));
  const neverWritten = version === 1 && results.every((r) => r.status === 'rejected' && toErrno(r.reason) === 'ENOENT');
  if (neverWritten) {
    results = await Promise.allSettled(holders.map((id) =>
      deps.commands.setVersion(address(id), { chunkId, version: 0, newVersion, create: true, truncateLength, leaseMs: leaseMs(id) })));
  }
  const moved = holders.filter((_, i) => results[i]?.status === 'fulfilled');
  results.forEach((r, i) => {
    if (r.status === 'rejected') deps.log.warn('version change failed; replica left stale', { chunkId, serverId: holders[i], err: r.reason });
  });
  if (moved.length === 0) {
    const reason = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
    throw new FsError('EIO', `chunk ${chunkId}: no replica accepted version ${newVersion}`, { cause: reason });
  }
  return moved;
}
