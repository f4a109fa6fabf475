/** AdminService handlers (fstadmin): thin calls into master/admin/. */
import type { ServiceHandlers } from '../../common/rpc/server.js';
import type { AdminMethods } from '../../common/rpc/services.js';
import type { AdminDeps } from '../admin/admin-deps.js';
import { backupInfo, clusterStatus } from '../admin/cluster-status.js';
import { collectGarbage } from '../admin/collect-garbage.js';
import { createCredential, listCredentials, revokeCredential } from '../admin/credentials.js';
import { decommission, forgetChunkserver } from '../admin/decommission.js';
import { diskUsage } from '../admin/disk-usage.js';
import { fsck } from '../admin/fsck.js';
import { getGoal, setGoal } from '../admin/goals.js';
import { rebuildMetadata } from '../admin/rebuild.js';

export function adminServiceHandlers(deps: AdminDeps): ServiceHandlers<typeof AdminMethods> {
  const rebalancer = deps.chunks.rebalancer;
  return {
    GetClusterStatus: (req) => clusterStatus(deps, req.brief),
    GetGoal: (req) => getGoal(deps, req),
    SetGoal: (req) => setGoal(deps, req),
    Decommission: (req) => decommission(deps, req),
    StartRebalance: async (req) => ({ rebalance: await rebalancer.start(req.threshold, req.rateBytes) }),
    StopRebalance: async () => ({ rebalance: await rebalancer.stop() }),
    Fsck: (req, ctx) => fsck(deps, req, ctx.signal),
    CollectGarbage: () => collectGarbage(deps),
    DiskUsage: (req) => diskUsage(deps, req),
    ForgetChunkserver: (req) => forgetChunkserver(deps, req),
    CreateCredential: (req) => createCredential(deps, req),
    ListCredentials: () => listCredentials(deps),
    RevokeCredential: (req) => revokeCredential(deps, req),
    BackupMetadata: async () => ({ backup: backupInfo(await deps.backups.make()) }),
    DumpMetadata: async () => ({ backup: backupInfo(await deps.backups.dump()) }),
    ReadBackup: async (req) => ({ data: await deps.backups.read(req.name, req.offset, Math.min(req.length, 1024 * 1024)) }),
    RebuildMetadata: (req, ctx) => rebuildMetadata(deps, req, ctx.signal),
  };
}
