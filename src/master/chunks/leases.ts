/**
 * Chunk leases (GFS): the master makes one replica of a chunk under mutation its primary for
 * `leaseMs`, by a SetChunkVersion carrying `lease_ms`; the primary accepts client writes only
 * while it holds the lease, and orders them. Every lease is written to SQLite *before* the grant is
 * sent, with an expiry that covers the latest moment the primary can believe it holds it (the
 * grant's deadline plus the lease), so that a master restarted at any point knows how long an old
 * primary may still accept writes, and never grants a second one before then.
 *
 * A lease ends early when its primary takes a version move without a new lease (the primary drops
 * it), or when nothing listens at the primary's address any more (the process is gone; a restarted
 * chunkserver holds no leases). Otherwise a new primary waits for the old lease to run out.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Reader, Tx } from '../db/engine.js';
import { refusesConnections } from '../servers/probe.js';
import type { ChunkDeps } from './chunk-deps.js';

export interface LeaseRow {
  [k: string]: number;
  chunk_id: number;
  server_id: number;
  version: number;
  expires_ms: number;
}

export function leaseOf(db: Reader | Tx, chunkId: number): Promise<LeaseRow | undefined> {
  return db.get<LeaseRow>('SELECT chunk_id, server_id, version, expires_ms FROM leases WHERE chunk_id = ?', [chunkId]);
}

/** The latest moment a primary granted (or extended) now may believe it holds the lease. */
export function leaseExpiry(deps: ChunkDeps, now = Date.now()): number {
  return now + deps.commands.timeoutMs + deps.leaseMs;
}

export async function recordLease(tx: Tx, chunkId: number, serverId: number, version: number, expiresMs: number): Promise<void> {
  await tx.run(
    `INSERT INTO leases (chunk_id, server_id, version, expires_ms) VALUES (?, ?, ?, ?)
     ON CONFLICT (chunk_id) DO UPDATE SET server_id = excluded.server_id, version = excluded.version, expires_ms = excluded.expires_ms`,
    [chunkId, serverId, version, expiresMs],
  );
}

/**
 * Grants (or extends) the lease on `chunkId` at `version` to `serverId`, which must hold the chunk
 * at that version: recorded first, then sent. Throws what the chunkserver answered.
 */
export async function grantLease(deps: ChunkDeps, chunkId: number, version: number, serverId: number): Promise<void> {
  const address = deps.servers.get(serverId)?.address;
  if (!address) throw new Error(`unknown chunkserver ${serverId}`);
  await deps.db.write((tx) => recordLease(tx, chunkId, serverId, version, leaseExpiry(deps)));
  await deps.commands.setVersion(address, { chunkId, version, newVersion: version, leaseMs: deps.leaseMs });
}

/**
 * Waits until `old` can no longer be held, unless its primary is among `confirmed` (servers that
 * took a version move, which ended any lease they held) or nothing listens at its address.
 */
export async function outwaitLease(deps: ChunkDeps, old: LeaseRow | undefined, confirmed: readonly number[]): Promise<void> {
  if (!old || confirmed.includes(old.server_id)) return;
  const left = old.expires_ms - Date.now();
  if (left <= 0) return;
  const address = deps.servers.get(old.server_id)?.address;
  if (address && await refusesConnections(address)) return;
  deps.log.info('waiting for the old primary\'s lease to run out', { chunkId: old.chunk_id, serverId: old.server_id, waitMs: left });
  await sleep(left);
}
