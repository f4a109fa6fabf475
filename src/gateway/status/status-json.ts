/**
 * The JSON the dashboard reads (web/dashboard), made from GetClusterStatus answers: names in
 * camelCase, bytes as byte counts, times as Unix ms, rates per second from two samples (null
 * until there are two).
 */
import type { fst } from '../../proto-gen/fst.js';

export interface Sample {
  time: number;
  res: fst.GetClusterStatusResponse;
  gatewayRequests: number;
}

export type DashboardStatus = ReturnType<typeof dashboardStatus>;

function rate(now: number | undefined, before: number | undefined, seconds: number | undefined): number | null {
  if (now === undefined || before === undefined || seconds === undefined || seconds <= 0 || now < before) return null;
  return Math.round(((now - before) / seconds) * 10) / 10;
}

const sum = (servers: fst.IChunkserverStatus[], f: (s: fst.IChunkserverStatus) => number | null | undefined): number =>
  servers.reduce((acc, s) => acc + Number(f(s) ?? 0), 0);

export function dashboardStatus(last: Sample, prev: Sample | undefined, health: { value: fst.IChunkHealth; time: number } | undefined) {
  const r = last.res;
  const p = prev?.res;
  // The master's own clock spaces the samples when it says it; else the gateway's.
  const seconds = prev ? (Number(r.nowMs ?? 0) > 0 && Number(p?.nowMs ?? 0) > 0 ? Number(r.nowMs) - Number(p!.nowMs) : last.time - prev.time) / 1000 : undefined;
  const before = new Map((p?.servers ?? []).map((s) => [Number(s.serverId), s]));
  const servers = r.servers.map((s) => {
    const b = before.get(Number(s.serverId));
    return {
      id: Number(s.serverId), address: s.address, state: s.state, decommission: s.decommission, rack: s.rack,
      capacityBytes: Number(s.capacityBytes), usedBytes: Number(s.usedBytes), freeBytes: Number(s.freeBytes), chunks: Number(s.chunks),
      lastHeartbeatMs: Number(s.lastHeartbeatMs), load: s.load,
      readsPerSec: rate(Number(s.reads), b && Number(b.reads), seconds),
      writesPerSec: rate(Number(s.writes), b && Number(b.writes), seconds),
      readBytesPerSec: rate(Number(s.bytesRead), b && Number(b.bytesRead), seconds),
      writeBytesPerSec: rate(Number(s.bytesWritten), b && Number(b.bytesWritten), seconds),
    };
  });
  const total = (f: (s: fst.IChunkserverStatus) => number | null | undefined): number | null =>
    (p ? rate(sum(r.servers, f), sum(p.servers, f), seconds) : null);
  const h = health?.value;
  const rep = r.replication;
  const reb = r.rebalance;
  return {
    time: last.time,
    servers,
    capacityBytes: Number(r.capacityBytes), usedBytes: Number(r.usedBytes), freeBytes: Number(r.freeBytes),
    files: Number(r.files), directories: Number(r.directories), chunks: Number(r.chunks), logicalBytes: Number(r.logicalBytes),
    health: h ? {
      healthy: Number(h.healthy), underReplicated: Number(h.underReplicated), missing: Number(h.missing), stale: Number(h.stale),
      staleReplicas: Number(h.staleReplicas), corruptReported: Number(h.corruptReported), overReplicated: Number(h.overReplicated),
    } : null,
    healthTime: health?.time ?? null,
    replication: {
      queued: Number(rep?.queued ?? 0), inFlight: Number(rep?.inFlight ?? 0), copied: Number(rep?.copied ?? 0),
      bytesCopied: Number(rep?.bytesCopied ?? 0), failed: Number(rep?.failed ?? 0),
    },
    rebalance: {
      state: reb?.state ?? 'idle', threshold: Number(reb?.threshold ?? 0), moved: Number(reb?.moved ?? 0), bytesMoved: Number(reb?.bytesMoved ?? 0),
      bytesToMove: Number(reb?.bytesToMove ?? 0), inFlight: Number(reb?.inFlight ?? 0), maxDeviation: Number(reb?.maxDeviation ?? 0),
    },
    ops: {
      masterCallsPerSec: p ? rate(Number(r.masterCalls), Number(p.masterCalls), seconds) : null,
      readsPerSec: total((s) => s.reads), writesPerSec: total((s) => s.writes),
      readBytesPerSec: total((s) => s.bytesRead), writeBytesPerSec: total((s) => s.bytesWritten),
      gatewayRequestsPerSec: prev ? rate(last.gatewayRequests, prev.gatewayRequests, (last.time - prev.time) / 1000) : null,
    },
    defaultReplication: r.defaultReplication,
  };
}
