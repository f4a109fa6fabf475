/**
 * fstadmin status [--json]: the cluster as the master sees it (AdminService.GetClusterStatus).
 *
 * Human output: one row per chunkserver (address, state, used, free, capacity, chunks, age of the
 * last heartbeat), the totals over live servers, the namespace counts, the chunk health,
 * re-replication's progress and the rebalance job.
 *
 * --json prints the response as protobufjs's toObject gives it with {longs: Number, defaults: true}
 * (every field present, keys camelCase, 64-bit counts as numbers):
 *
 *   {
 *     "servers": [{ "serverId": 1, "address": "10.0.0.5:9422", "state": "alive" | "dead",
 *                   "capacityBytes": 0, "usedBytes": 0, "freeBytes": 0, "chunks": 0,
 *                   "lastHeartbeatMs": 1732182000000, "load": 0,
 *                   "decommission": "" | "draining" | "drained", "rack": "",
 *                   // the server's data RPCs since its process started, as of its last heartbeat
 *                   "reads": 0, "writes": 0, "bytesRead": 0, "bytesWritten": 0 }],
 *     "capacityBytes": 0, "usedBytes": 0, "freeBytes": 0,      // sums over live servers
 *     "files": 0, "directories": 0, "chunks": 0,
 *     "health": { "healthy": 0, "underReplicated": 0, "missing": 0, "stale": 0, "staleReplicas": 0,
 *                 "corruptReported": 0, "overReplicated": 0 },
 *     "defaultReplication": 2,
 *     "replication": { "queued": 0, "inFlight": 0, "copied": 0, "bytesCopied": 0, "failed": 0,
 *                      "staleDeleted": 0, "lastPassMs": 0, "trimmed": 0 }, // counters since the master started
 *     "rebalance": { "state": "idle", "threshold": 0, "rateBytes": 0, "moved": 0, "bytesMoved": 0,
 *                    "bytesToMove": 0, "queued": 0, "inFlight": 0, "failed": 0, "startedMs": 0,
 *                    "maxDeviation": 0 },
 *     "logicalBytes": 0,                 // sum of regular files' sizes
 *     "masterCalls": 0,                  // RPCs the master answered since it started
 *     "nowMs": 1732182000000,            // the master's clock when it answered
 *     "lastBackup": { "name": "fst-meta-....fstbackup", "createdMs": 0, "bytes": 0, "sha256": "" } | null,
 *     "lastBackupError": "",             // why the last metadata backup failed, "" when it did not
 *     "engine": "sqlite" | "postgres",   // the metadata engine
 *     "restoredFrom": "",                // the backup restored from, until fsck --repair reconciled it
 *     // the masters sharing the metadata, the active first (one on SQLite); leaseAgeMs: the active's
 *     // time since it renewed its lease, a standby's since it last polled; epoch: one more per takeover
 *     "masters": [{ "address": "10.0.0.1:9420", "role": "active" | "standby", "leaseAgeMs": 0, "epoch": 1 }]
 *   }
 *
 * A rate (operations per second) takes two answers: (masterCalls2 - masterCalls1) * 1000 /
 * (nowMs2 - nowMs1), and likewise for the servers' counters, which start again at 0 when a
 * chunkserver restarts (a drop is a restart, not a negative rate).
 */
import type { Command } from 'commander';
import { AdminMethods } from '../../common/rpc/services.js';
import { fst } from '../../proto-gen/fst.js';
import { formatAge, formatBytes, formatTable } from '../../cli/format.js';
import type { CliIo } from '../../cli/program.js';
import { adminCall } from '../admin-rpc.js';
import { describeRebalance } from '../rebalance-format.js';

/** The JSON form of a status answer (see the comment at the top of this file). */
export function statusToJson(res: fst.GetClusterStatusResponse): Record<string, unknown> {
  // Present even from a master that does not send them, so scripts can rely on every key.
  if (!res.health) res.health = fst.ChunkHealth.create();
  if (!res.replication) res.replication = fst.ReplicationProgress.create();
  if (!res.rebalance) res.rebalance = fst.RebalanceProgress.create();
  return fst.GetClusterStatusResponse.toObject(res, { longs: Number, defaults: true });
}

/** One server in the JSON form of a status answer. */
export interface ServerRow {
  address: string;
  state: string;
  decommission: string;
  capacityBytes: number;
  usedBytes: number;
  freeBytes: number;
  chunks: number;
  lastHeartbeatMs: number;
}

interface Health {
  healthy: number;
  underReplicated: number;
  missing: number;
  stale: number;
  staleReplicas: number;
  corruptReported: number;
  overReplicated: number;
}

interface Replication {
  queued: number;
  inFlight: number;
  copied: number;
  bytesCopied: number;
  failed: number;
  staleDeleted: number;
  trimmed: number;
}

/** The human form of a status answer, as lines. */
export function formatStatus(s: Record<string, unknown>, now = Date.now()): string[] {
  const servers = (s.servers as ServerRow[] | undefined) ?? [];
  const h = s.health as Health;
  const r = s.replication as Replication;
  const rows = [
    ['ADDRESS', 'STATE', 'USED', 'FREE', 'CAPACITY', 'CHUNKS', 'HEARTBEAT'],
    ...servers.map((x) => [
      x.address, x.decommission ? `${x.state}, ${x.decommission}` : x.state, formatBytes(x.usedBytes), formatBytes(x.freeBytes), formatBytes(x.capacityBytes),
      String(x.chunks), formatAge(x.lastHeartbeatMs, now),
    ]),
  ];
  const live = servers.filter((x) => x.state === 'alive').length;
  const lines = servers.length > 0 ? formatTable(rows, new Set([2, 3, 4, 5])) : ['no chunkservers registered'];
  return [
    ...lines,
    '',
    `servers:     ${live} alive, ${servers.length - live} dead`,
    `space:       ${formatBytes(s.usedBytes as number)} used, ${formatBytes(s.freeBytes as number)} free, ` +
      `${formatBytes(s.capacityBytes as number)} capacity (live servers)`,
    `namespace:   ${String(s.files)} files, ${String(s.directories)} directories`,
    `chunks:      ${String(s.chunks)} (replication goal ${String(s.defaultReplication)})`,
    `health:      ${h.healthy} healthy, ${h.underReplicated} under-replicated, ${h.missing} missing, ` +
      `${h.stale} stale, ${h.overReplicated} over-replicated; ${h.staleReplicas} stale replicas, ${h.corruptReported} reported corrupt`,
    `replication: ${r.queued} queued, ${r.inFlight} in flight; since start ${r.copied} copied ` +
      `(${formatBytes(r.bytesCopied)}), ${r.failed} failed, ${r.staleDeleted} stale deleted, ${r.trimmed} surplus deleted`,
    `${describeRebalance(s.rebalance as Parameters<typeof describeRebalance>[0])}; ${String((s.rebalance as { queued: number }).queued)} queued, ` +
      `${String((s.rebalance as { inFlight: number }).inFlight)} in flight`,
    `metadata:    ${String(s.engine || 'sqlite')}; ${describeBackup(s.lastBackup as { name: string; createdMs: number; bytes: number } | null, String(s.lastBackupError ?? ''))}`,
    ...describeMasters((s.masters as MasterRow[] | undefined) ?? []),
    ...(s.restoredFrom ? [`restored:    from ${String(s.restoredFrom)}: run fstadmin fsck --repair to reconcile it with the chunkservers`] : []),
  ];
}

interface MasterRow {
  address: string;
  role: string;
  leaseAgeMs: number;
  epoch: number;
}

/** One line per master: the active one with its lease's epoch and age, the standbys with when last seen. */
function describeMasters(masters: MasterRow[]): string[] {
  if (masters.length === 0) return [];
  const ago = (ms: number): string => `${(ms / 1000).toFixed(1)} s ago`;
  return masters.map((m, i) => `${i === 0 ? 'masters:    ' : '            '} ${m.address} ${m.role}` +
    (masters.length === 1 && m.epoch === 0 ? '' : m.role === 'active' ? ` (epoch ${m.epoch}, lease renewed ${ago(m.leaseAgeMs)})` : ` (seen ${ago(m.leaseAgeMs)})`));
}

function describeBackup(b: { name: string; createdMs: number; bytes: number } | null, error: string): string {
  const last = b ? `last backup ${new Date(b.createdMs).toISOString()} (${b.name}, ${formatBytes(b.bytes)})` : 'no backup made since the master started';
  return error ? `${last}; the last one FAILED: ${error}` : last;
}

/** The cluster status as its JSON form (shared by status, df and rebalance). */
export async function fetchStatus(program: Command, io: CliIo, brief = false): Promise<Record<string, unknown>> {
  return statusToJson(await adminCall(program, io, AdminMethods.GetClusterStatus, { brief }));
}

export function registerStatus(program: Command, io: CliIo): void {
  program.command('status')
    .description('chunkservers, space, namespace counts, chunk health, replication and rebalance queues')
    .option('--json', 'print the raw status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const obj = await fetchStatus(program, io);
      io.stdout.write(opts.json ? JSON.stringify(obj, null, 2) + '\n' : formatStatus(obj).join('\n') + '\n');
    });
}
