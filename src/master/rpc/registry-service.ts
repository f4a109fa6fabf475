/** ChunkserverRegistryService handlers: registration and the heartbeat stream. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
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
  /** The key chunk access tokens are signed with, for chunkservers to check them; undefined: insecure. */
  tokenKey?: Buffer,
  /** Restored from a backup and not reconciled yet (backup/restore-state.ts). */
  adoptNewer: () => boolean = () => false,
): ServiceHandlers<typeof RegistryMethods> {
  /**
   * The secret of each server id's last registration in this master's life: a heartbeat stream
   * speaks only for the server whose registration it names, so one chunkserver cannot report (or
   * empty) the replicas of another, whatever credential it holds.
   */
  const registrations = new Map<number, Buffer>();
  return {
    RegisterChunkserver: async (r, ctx) => {
      if (!r.uuid || r.uuid.length > 128) throw new FsError('EINVAL', 'missing or invalid uuid');
      parseHostPort(r.address, 'chunkserver address');
      const serverId = await registry.register({ uuid: r.uuid, address: r.address, rack: r.rack, capacity: r.capacityBytes, free: r.freeBytes });
      const registration = randomBytes(16);
      registrations.set(serverId, registration);
      log.debug('registration', { serverId, credential: ctx.principal?.name });
      return { serverId, heartbeatIntervalMs, tokenKey, registration };
    },
    Heartbeat: (call) => serveHeartbeat(call, db, registry, log, corrupt, (id, secret) => {
      const expected = registrations.get(id);
      if (!expected || secret.length !== expected.length || !timingSafeEqual(expected, secret)) {
        throw new FsError('EACCES', `heartbeat for chunkserver ${id} without its registration: register first`);
      }
    }, adoptNewer),
  };
}
