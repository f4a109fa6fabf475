/**
 * What `fstadmin status` shows: every chunkserver, totals, how many chunks are healthy,
 * under-replicated, missing or stale, and re-replication's progress. The health query scans the
 * chunk tables: it serves operators, never the data path. Health counts replicas on live servers
 * only (a server given time to come back before re-replication still shows its chunks as
 * under-replicated: they are, for now).
 */
import type { fst } from '../../proto-gen/fst.js';
import type { MasterDb } from '../db/database.js';
import type { ServerRegistry } from '../servers/registry.js';

/** What re-replication tells the status (ReplicationManager). */
export interface ReplicationReport {
  progress(): fst.IReplicationProgress;
  corruptReported(): number;
}

export async function clusterStatus(db: MasterDb, registry: ServerRegistry, replication: ReplicationReport, defaultReplication: number): Promise<fst.IGetClusterStatusResponse> {
  const replicaCounts = new Map<number, number>();
  for (const r of await db.reader.all<{ server_id: number; n: number }>('SELECT server_id, COUNT(*) AS n FROM replicas GROUP BY server_id')) {
    replicaCounts.set(r.server_id, r.n);
  }
  const servers = registry.all().map((s) => ({
    serverId: s.id,
    address: s.address,
    state: registry.isAlive(s.id) ? 'alive' : 'dead',
    capacityBytes: s.capacity,
    usedBytes: s.used,
    freeBytes: s.free,
    chunks: replicaCounts.get(s.id) ?? 0,
    lastHeartbeatMs: s.lastHeartbeatMs,
    load: s.load,
  }));
  const live = servers.filter((s) => s.state === 'alive');
  const alive = live.map((s) => s.serverId).join(',') || '0';
  const health = await db.reader.get<{ healthy: number; under: number; missing: number; stale: number; stale_replicas: number }>(
    `SELECT
       COALESCE(SUM(good >= goal), 0) AS healthy,
       COALESCE(SUM(good > 0 AND good < goal), 0) AS under,
       COALESCE(SUM(good = 0 AND stale = 0), 0) AS missing,
       COALESCE(SUM(good = 0 AND stale > 0), 0) AS stale,
       COALESCE(SUM(stale), 0) AS stale_replicas
     FROM (
       SELECT c.chunk_id, i.replication AS goal,
         COUNT(CASE WHEN r.version = c.version AND r.server_id IN (${alive}) THEN 1 END) AS good,
         COUNT(CASE WHEN r.version < c.version THEN 1 END) AS stale
       FROM chunks c JOIN inodes i ON i.ino = c.ino
       LEFT JOIN replicas r ON r.chunk_id = c.chunk_id
       GROUP BY c.chunk_id
     )`,
  );
  const counters = new Map((await db.reader.all<{ name: string; value: number }>('SELECT name, value FROM counters')).map((r) => [r.name, r.value]));
  const sum = (f: (s: (typeof live)[number]) => number): number => live.reduce((a, s) => a + f(s), 0);
  return {
    servers,
    capacityBytes: sum((s) => s.capacityBytes),
    usedBytes: sum((s) => s.usedBytes),
    freeBytes: sum((s) => s.freeBytes),
    files: counters.get('files') ?? 0,
    directories: counters.get('directories') ?? 0,
    chunks: counters.get('chunks') ?? 0,
    health: {
      healthy: health?.healthy ?? 0,
      underReplicated: health?.under ?? 0,
      missing: health?.missing ?? 0,
      stale: health?.stale ?? 0,
      staleReplicas: health?.stale_replicas ?? 0,
      corruptReported: replication.corruptReported(),
    },
    defaultReplication,
    replication: replication.progress(),
  };
}
