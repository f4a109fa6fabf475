/**
 * What `fstadmin status` shows: every chunkserver (with its data RPC totals as of its last
 * heartbeat), totals, how many chunks are healthy, under-replicated, missing or stale,
 * re-replication's progress, and the calls the master answered with its clock at the answer, from
 * which a poller computes rates. The health query scans the chunk tables: it serves operators,
 * never the data path. Health counts replicas on live servers only (a server given time to come
 * back before re-replication still shows its chunks as under-replicated: they are, for now).
 */
import type { fst } from '../../proto-gen/fst.js';
import type { ServerInfo } from '../servers/registry.js';
import type { AdminDeps } from './admin-deps.js';

/** One chunkserver's row; `replicas`: replica rows the master records on it. */
export function serverStatus(deps: AdminDeps, s: ServerInfo, replicas: number): fst.IChunkserverStatus {
  return {
    serverId: s.id,
    address: s.address,
    state: deps.registry.isAlive(s.id) ? 'alive' : 'dead',
    capacityBytes: s.capacity,
    usedBytes: s.used,
    freeBytes: s.free,
    chunks: replicas,
    lastHeartbeatMs: s.lastHeartbeatMs,
    load: s.load,
    decommission: !s.draining ? '' : replicas === 0 ? 'drained' : 'draining',
    rack: s.rack,
    reads: s.io.reads,
    writes: s.io.writes,
    bytesRead: s.io.bytesRead,
    bytesWritten: s.io.bytesWritten,
  };
}

export async function clusterStatus(deps: AdminDeps, brief = false): Promise<fst.IGetClusterStatusResponse> {
  const { db, registry, defaultReplication } = deps;
  const replication = deps.chunks.replication;
  const replicaCounts = new Map<number, number>();
  if (brief) {
    // A range of the replicas_by_server index per draining server: cheap enough to poll.
    for (const s of registry.all().filter((x) => x.draining)) {
      replicaCounts.set(s.id, (await db.reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM replicas WHERE server_id = ?', [s.id]))?.n ?? 0);
    }
  } else {
    for (const r of await db.reader.all<{ server_id: number; n: number }>('SELECT server_id, COUNT(*) AS n FROM replicas GROUP BY server_id')) {
      replicaCounts.set(r.server_id, r.n);
    }
  }
  const servers = registry.all().map((s) => serverStatus(deps, s, replicaCounts.get(s.id) ?? 0));
  const live = registry.alive();
  // Replicas count towards goals on live servers in service only; a draining server's copies are
  // still data (a chunk only there is under-replicated, not missing).
  const inService = registry.placeable().map((s) => s.id).join(',') || '0';
  const alive = registry.alive().map((s) => s.id).join(',') || '0';
  const health = brief ? undefined : await db.reader.get<{ healthy: number; under: number; missing: number; stale: number; stale_replicas: number; over: number; logical: number }>(
    `SELECT
       COALESCE(SUM(CASE WHEN good >= goal THEN 1 ELSE 0 END), 0) AS healthy,
       COALESCE(SUM(CASE WHEN good > goal THEN 1 ELSE 0 END), 0) AS over,
       COALESCE(SUM(CASE WHEN live > 0 AND good < goal THEN 1 ELSE 0 END), 0) AS under,
       COALESCE(SUM(CASE WHEN live = 0 AND stale = 0 THEN 1 ELSE 0 END), 0) AS missing,
       COALESCE(SUM(CASE WHEN live = 0 AND stale > 0 THEN 1 ELSE 0 END), 0) AS stale,
       COALESCE(SUM(stale), 0) AS stale_replicas,
       (SELECT COALESCE(SUM(size), 0) FROM inodes WHERE type = 1) AS logical
     FROM (
       SELECT c.chunk_id, i.replication AS goal,
         COUNT(CASE WHEN r.version = c.version AND r.server_id IN (${inService}) THEN 1 END) AS good,
         COUNT(CASE WHEN r.version = c.version AND r.server_id IN (${alive}) THEN 1 END) AS live,
         COUNT(CASE WHEN r.version < c.version THEN 1 END) AS stale
       FROM chunks c JOIN inodes i ON i.ino = c.ino
       LEFT JOIN replicas r ON r.chunk_id = c.chunk_id
       GROUP BY c.chunk_id, i.replication
     ) AS per_chunk`,
  );
  const masters = deps.masters ? await deps.masters() : [{ address: deps.address?.() ?? '', role: 'active', leaseAgeMs: 0, epoch: 0 }];
  const counters = new Map((await db.reader.all<{ name: string; value: number }>('SELECT name, value FROM counters')).map((r) => [r.name, r.value]));
  const sum = (f: (s: (typeof live)[number]) => number): number => live.reduce((a, s) => a + f(s), 0);
  return {
    servers,
    capacityBytes: sum((s) => s.capacity),
    usedBytes: sum((s) => s.used),
    freeBytes: sum((s) => s.free),
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
      overReplicated: health?.over ?? 0,
    },
    defaultReplication,
    replication: replication.progress(),
    rebalance: deps.chunks.rebalancer.progress(),
    logicalBytes: health?.logical ?? 0,
    // Read together, after the queries above: the count is the one as of this clock reading.
    masterCalls: deps.callsAnswered(),
    nowMs: Date.now(),
    ...(deps.backups.last ? { lastBackup: backupInfo(deps.backups.last) } : {}),
    lastBackupError: deps.backups.lastError ?? '',
    engine: db.engine.kind,
    masters,
    restoredFrom: deps.restore.info ? `${deps.restore.info.backup} (snapshot of ${new Date(deps.restore.info.created).toISOString()})` : '',
  };
}

/** A backup as AdminService answers it. */
export function backupInfo(b: { name: string; created: number; bytes: number; sha256: string }): fst.IBackupInfo {
  return { name: b.name, createdMs: b.created, bytes: b.bytes, sha256: b.sha256 };
}
