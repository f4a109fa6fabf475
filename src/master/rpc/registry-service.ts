/** ChunkserverRegistryService handlers: registration and the heartbeat stream. */
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { ServiceHandlers } from '../../common/rpc/server.js';
import type { RegistryMethods } from '../../common/rpc/services.js';
import { parseHostPort } from '../../common/config/address.js';
import type { MasterDb } from '../db/database.js';
import { serveHeartbeat, type CorruptSink } from '../servers/heartbeat.js';
import type { ServerRegistry } from '../servers/registry.js';

export function registryServiceHandlers(
  db: MasterDb, registry: ServerRegistry, heartbeatIntervalMs: number, log: Logger, corrupt: CorruptSink,
): ServiceHandlers<typeof RegistryMethods> {
  return {
    RegisterChunkserver: async (r) => {
      if (!r.uuid || r.uuid.length > 128) throw new FsError('EINVAL', 'missing or invalid uuid');
      parseHostPort(r.address, 'chunkserver address');
      const serverId = await registry.register({ uuid: r.uuid, address: r.address, rack: r.rack, capacity: r.capacityBytes, free: r.freeBytes });
      return { serverId, heartbeatIntervalMs };
    },
    Heartbeat: (call) => serveHeartbeat(call, db, registry, log, corrupt),
  };
}
