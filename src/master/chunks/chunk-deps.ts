/**
 * What the master's chunk operations work with (database, registry, commands to chunkservers, lease
 * length), and how a set of replicas becomes the chain a writer or reader is handed.
 */
import type { fst } from '../../proto-gen/fst.js';
import type { Logger } from '../../common/log/logger.js';
import type { MasterDb } from '../db/database.js';
import type { ServerRegistry } from '../servers/registry.js';
import type { ChunkserverCommands } from './chunkserver-commands.js';

export interface ChunkDeps {
  db: MasterDb;
  servers: ServerRegistry;
  commands: ChunkserverCommands;
  log: Logger;
  /** How long a primary's lease lasts from its grant or extension. */
  leaseMs: number;
}

/** The chain for `serverIds`: `primary` first, then the others by load. */
export function locationOf(deps: ChunkDeps, idx: number, chunkId: number, version: number, serverIds: number[], primary?: number): fst.IChunkLocation {
  const replicas = serverIds
    .map((id) => deps.servers.get(id))
    .filter((s): s is NonNullable<typeof s> => !!s)
    .sort((a, b) => Number(b.id === primary) - Number(a.id === primary) || a.load - b.load)
    .map((s) => ({ serverId: s.id, address: s.address }));
  return { index: idx, chunkId, version, replicas };
}

