/**
 * AllocateChunk: hands a client a chunk to write, at a fresh version, with its replication chain.
 *
 * A new chunk is recorded in SQLite (so that a chunk report can never find it unknown and delete
 * it) and answered at once; the chosen chunkservers are told to create it a second later. The
 * client's first WriteChunk creates it too (its header says `create`; creation is idempotent at one
 * version), so a new chunk's first byte does not wait for a master-to-chunkserver round trip, and a
 * chunk that its writer never writes still exists on its replicas moments later. In between,
 * moveVersion treats a version-1 chunk that no replica holds as empty.
 *
 * An existing chunk is first moved to version+1 on its up-to-date live replicas, then recorded: a
 * replica that missed the bump keeps the old version and is stale from then on, so it is never read
 * again. If the master dies between the two steps, chunk reports carry the higher version and the
 * master adopts it.
 */
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { toErrno } from '../../common/errors/to-errno.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import type { Logger } from '../../common/log/logger.js';
import type { MasterDb } from '../db/database.js';
import { getInode } from '../tree/inode-row.js';
import type { ServerRegistry } from '../servers/registry.js';
import type { ChunkserverCommands } from './chunkserver-commands.js';
import { bumpCounter, chunkAt, serversWithVersion } from './chunk-rows.js';
import { chooseServers } from './placement.js';

/** Largest file: 2^53 bytes would overflow JS integers; 1 PiB is plenty. */
export const MAX_FILE_SIZE = 2 ** 50;

const REGULAR = 1;

/** How long after allocating a new chunk the master creates it on the replicas itself. */
const BACKGROUND_CREATE_DELAY_MS = 1000;

export interface ChunkDeps {
  db: MasterDb;
  servers: ServerRegistry;
  commands: ChunkserverCommands;
  log: Logger;
  /** How long a primary's lease lasts from its grant or extension. */
  leaseMs: number;
}

export function locationOf(deps: ChunkDeps, idx: number, chunkId: number, version: number, serverIds: number[]): fst.IChunkLocation {
  const replicas = serverIds
    .map((id) => deps.servers.get(id))
    .filter((s): s is NonNullable<typeof s> => !!s)
    .sort((a, b) => a.load - b.load)
    .map((s) => ({ serverId: s.id, address: s.address }));
  return { index: idx, chunkId, version, replicas };
}

export interface Allocation {
  chunk: fst.IChunkLocation;
  /** New: no chunkserver holds it yet, the first write creates it. */
  created: boolean;
}

export async function allocateChunk(deps: ChunkDeps, ino: number, idx: number): Promise<Allocation> {
  if (!Number.isSafeInteger(idx) || idx < 0 || idx * CHUNK_SIZE >= MAX_FILE_SIZE) {
    throw new FsError('EFBIG', `chunk index ${idx} is past the largest file size`);
  }
  const inode = await getInode(deps.db.reader, ino);
  if (inode.type !== REGULAR) throw new FsError(inode.type === 2 ? 'EISDIR' : 'EINVAL', `inode ${ino} is not a regular file`);
  const existing = await chunkAt(deps.db.reader, ino, idx);
  if (!existing) return { chunk: await createNew(deps, ino, idx, inode.replication), created: true };
  return { chunk: await bumpExisting(deps, ino, existing.chunk_id, existing.version, idx), created: false };
}

async function bumpExisting(deps: ChunkDeps, ino: number, chunkId: number, version: number, idx: number): Promise<fst.IChunkLocation> {
  const newVersion = version + 1;
  const bumped = await moveVersion(deps, ino, chunkId, version, newVersion);
  await deps.db.write(async (tx) => {
    // A chunk report may already have carried the new version here (the master adopts newer
    // versions it hears of): up to newVersion is ours; beyond it someone else moved the chunk.
    const r = await tx.run('UPDATE chunks SET version = ? WHERE chunk_id = ? AND version BETWEEN ? AND ?', [newVersion, chunkId, version, newVersion]);
    if (r.changes !== 1) throw new FsError('ESTALE', `chunk ${chunkId} changed while being allocated`);
    for (const id of bumped) await tx.run('UPDATE replicas SET version = ? WHERE chunk_id = ? AND server_id = ?', [newVersion, chunkId, id]);
  });
  return locationOf(deps, idx, chunkId, newVersion, bumped);
}

/**
 * Moves a chunk from `version` to `newVersion` on its live up-to-date replicas (cutting it to
 * `truncateLength` bytes if given) and returns the servers that took it; throws EIO when none did.
 *
 * A version-1 chunk that no replica holds was allocated but never written (its first write is in
 * flight, or its writer died): it holds no data, so it is created empty at the new version. A write
 * still in flight then finds a newer version, fails with ESTALE, and its client allocates again.
 */
export async function moveVersion(deps: ChunkDeps, ino: number, chunkId: number, version: number, newVersion: number, truncateLength?: number): Promise<number[]> {
  const holders = (await serversWithVersion(deps.db.reader, chunkId, version)).filter((id) => deps.servers.isAlive(id));
  if (holders.length === 0) throw new FsError('EIO', `chunk ${chunkId} of inode ${ino} has no live up-to-date replica`);
  const address = (id: number): string => deps.servers.get(id)!.address;
  let results = await Promise.allSettled(holders.map((id) => deps.commands.setVersion(address(id), { chunkId, version, newVersion, truncateLength })));
  const neverWritten = version === 1 && results.every((r) => r.status === 'rejected' && toErrno(r.reason) === 'ENOENT');
  if (neverWritten) {
    results = await Promise.allSettled(holders.map((id) =>
      deps.commands.setVersion(address(id), { chunkId, version: 0, newVersion, create: true, truncateLength })));
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

async function createNew(deps: ChunkDeps, ino: number, idx: number, goal: number): Promise<fst.IChunkLocation> {
  const alive = deps.servers.alive();
  if (alive.length === 0) throw new FsError('EIO', 'no chunkserver is alive');
  const { chosen, full } = chooseServers(alive, Math.max(1, goal));
  if (chosen.length === 0) throw new FsError('ENOSPC', `no chunkserver has room for a chunk (${full} full)`);
  const chunkId = await deps.db.write(async (tx) => {
    const owner = await tx.get('SELECT ino FROM inodes WHERE ino = ?', [ino]);
    if (!owner) throw new FsError('ENOENT', `inode ${ino} was removed`);
    const counter = await tx.get<{ value: number }>("SELECT value FROM counters WHERE name = 'next_chunk_id'");
    const id = counter!.value;
    await tx.run("UPDATE counters SET value = value + 1 WHERE name = 'next_chunk_id'");
    await tx.run('INSERT INTO chunks (ino, idx, chunk_id, version) VALUES (?, ?, ?, 1)', [ino, idx, id]);
    for (const s of chosen) await tx.run('INSERT INTO replicas (chunk_id, server_id, version) VALUES (?, ?, 1)', [id, s]);
    await bumpCounter(tx, 'chunks', 1);
    return id;
  });
  const location = locationOf(deps, idx, chunkId, 1, chosen);
  // Later, so as not to compete with the client's first write, which usually creates it first
  // (creating it again at the same version is a no-op).
  const later = setTimeout(() => {
    for (const r of location.replicas ?? []) {
      deps.commands.setVersion(r.address!, { chunkId, version: 0, newVersion: 1, create: true })
        // A replica that fails it shows as missing in the chunk reports.
        .catch((err: unknown) => deps.log.debug('background chunk creation failed', { chunkId, serverId: r.serverId, err }));
    }
  }, BACKGROUND_CREATE_DELAY_MS);
  later.unref();
  return location;
}
