/**
 * AllocateChunk: hands a writer a chunk, its replication chain and a lease on it.
 *
 * - A new chunk is created on every chosen replica before the answer, its primary (the chain's
 *   head) with the lease (create-chunk.ts).
 * - An existing chunk whose lease still runs, with every up-to-date replica alive, keeps its version:
 *   the lease is extended and the same chain handed out, so that writers sharing a chunk share one
 *   primary, which orders their writes.
 * - Otherwise (no lease, expired, a replica gone, or the writer reports a failed write) the chunk
 *   moves to a new version and gets a new lease (regrant.ts).
 */
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import { getInode } from '../tree/inode-row.js';
import { locationOf, type ChunkDeps } from './chunk-deps.js';
import { chunkAt, serversWithVersion, type ChunkRow } from './chunk-rows.js';
import { createChunk } from './create-chunk.js';
import { grantLease, leaseOf } from './leases.js';
import { regrant } from './regrant.js';

/** Largest file: 2^53 bytes would overflow JS integers; 1 PiB is plenty. */
export const MAX_FILE_SIZE = 2 ** 50;

const REGULAR = 1;

export interface Allocation {
  chunk: fst.IChunkLocation;
  /** A chunk created by this call. */
  created: boolean;
  leaseMs: number;
}

export async function allocateChunk(deps: ChunkDeps, ino: number, idx: number, failedVersion = 0): Promise<Allocation> {
  if (!Number.isSafeInteger(idx) || idx < 0 || idx * CHUNK_SIZE >= MAX_FILE_SIZE) {
    throw new FsError('EFBIG', `chunk index ${idx} is past the largest file size`);
  }
  if (!Number.isSafeInteger(failedVersion) || failedVersion < 0) throw new FsError('EINVAL', `invalid failed_version ${failedVersion}`);
  const inode = await getInode(deps.db.reader, ino);
  if (inode.type !== REGULAR) throw new FsError(inode.type === 2 ? 'EISDIR' : 'EINVAL', `inode ${ino} is not a regular file`);
  const goal = Math.max(1, inode.replication);
  const existing = await chunkAt(deps.db.reader, ino, idx);
  // Replacing a failed chain of a chunk that is gone (the file was cut) must not create one.
  if (!existing && failedVersion > 0) throw new FsError('ESTALE', `chunk ${idx} of inode ${ino} no longer exists`);
  if (!existing) return { chunk: await createChunk(deps, ino, idx, goal), created: true, leaseMs: deps.leaseMs };
  // A failure at an older version was dealt with already (by another writer's report).
  const failover = failedVersion === existing.version;
  if (!failover) {
    const extended = await extendLease(deps, idx, existing);
    if (extended) return { ...extended, created: false };
  }
  return { chunk: await regrant(deps, ino, idx, existing, goal, failover), created: false, leaseMs: deps.leaseMs };
}

/**
 * Hands out the chain of a running lease whose primary and every up-to-date replica are alive,
 * keeping the version, and extends the lease once less than half of it is left (so that writers
 * opening one file after another do not each cost a SQLite write and a chunkserver round trip);
 * undefined when the chunk needs a new version instead (or the primary refused the extension).
 */
async function extendLease(deps: ChunkDeps, idx: number, chunk: ChunkRow): Promise<{ chunk: fst.IChunkLocation; leaseMs: number } | undefined> {
  const lease = await leaseOf(deps.db.reader, chunk.chunk_id);
  if (!lease || lease.version !== chunk.version || lease.expires_ms <= Date.now()) return undefined;
  const holders = await serversWithVersion(deps.db.reader, chunk.chunk_id, chunk.version);
  // A replica that is away would come back at this version without the writes made meanwhile.
  if (!holders.includes(lease.server_id) || !holders.every((id) => deps.servers.isAlive(id))) return undefined;
  const chain = locationOf(deps, idx, chunk.chunk_id, chunk.version, holders, lease.server_id);
  // The primary holds it at least until the grant's send time plus the lease (leases.ts).
  const left = lease.expires_ms - deps.commands.timeoutMs - Date.now();
  if (left > deps.leaseMs / 2) return { chunk: chain, leaseMs: left };
  try {
    await grantLease(deps, chunk.chunk_id, chunk.version, lease.server_id);
  } catch (err) {
    deps.log.info('lease extension refused; moving the chunk to a new version', { chunkId: chunk.chunk_id, serverId: lease.server_id, err });
    return undefined;
  }
  return { chunk: chain, leaseMs: deps.leaseMs };
}
