/** AdminService handlers (fstadmin). */
import type { ServiceHandlers } from '../../common/rpc/server.js';
import type { AdminMethods } from '../../common/rpc/services.js';
import { clusterStatus, type ReplicationReport } from '../admin/cluster-status.js';
import type { MasterDb } from '../db/database.js';
import type { ServerRegistry } from '../servers/registry.js';

export function adminServiceHandlers(db: MasterDb, registry: ServerRegistry, replication: ReplicationReport, defaultReplication: number): ServiceHandlers<typeof AdminMethods> {
  return {
    GetClusterStatus: () => clusterStatus(db, registry, replication, defaultReplication),
  };
}
