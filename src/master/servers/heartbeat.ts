/**
 * One chunkserver's heartbeat stream as the master handles it: numbers (space, load, the data RPCs'
 * running totals) go to the registry, chunk reports to SQLite, corrupt replicas to re-replication,
 * and the answer tells the server which of its chunks to delete. The server counts as connected
 * while the stream is open.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { MasterDb } from '../db/database.js';
import { applyChunkReport, applyRemoved, sweepUnreported } from './chunk-reports.js';
import type { ServerRegistry } from './registry.js';

/** Where reports of corrupt replicas go (re-replication counts and logs them). */
export interface CorruptSink {
  noteCorrupt(serverId: number, chunkIds: number[]): void;
}

export async function serveHeartbeat(
  call: ServerDuplexStream<fst.HeartbeatRequest, fst.IHeartbeatResponse>,
  db: MasterDb,
  registry: ServerRegistry,
  log: Logger,
  corrupt: CorruptSink,
  /** Throws unless `registration` is server `id`'s last registration secret (registry-service.ts). */
  mayBeatFor: (id: number, registration: Buffer) => void = () => undefined,
  /** Adopt versions this metadata never issued (restored from a backup, not yet reconciled). */
  adoptNewer: () => boolean = () => false,
): Promise<void> {
  let serverId = 0;
  // A generation per full report, unique across master restarts.
  const gen = Date.now();
  // Unknown chunks this metadata never issued, kept: logged once per full report (see chunk-reports.ts).
  let unissued: number[] = [];
  let unissuedCount = 0;
  try {
    // Not destroyed when a refusal ends the loop: grpc-js sends the failure's status only through a
    // stream that can still end (a destroyed one leaves the chunkserver waiting for its deadline).
    for await (const raw of call.iterator({ destroyOnReturn: false })) {
      const hb = raw as fst.HeartbeatRequest;
      if (serverId === 0) {
        if (!registry.get(hb.serverId)) throw new FsError('ENOENT', `unknown chunkserver id ${hb.serverId}: register first`);
        mayBeatFor(hb.serverId, Buffer.from(hb.registration));
        serverId = hb.serverId;
        registry.reportStarted(serverId, gen);
      } else if (hb.serverId !== serverId) {
        throw new FsError('EINVAL', `heartbeat stream of server ${serverId} carried id ${hb.serverId}`);
      }
      registry.beat(serverId, {
        capacity: hb.capacityBytes, used: hb.usedBytes, free: hb.freeBytes, load: hb.load, chunkCount: hb.chunkCount,
        io: { reads: hb.reads, writes: hb.writes, bytesRead: hb.bytesRead, bytesWritten: hb.bytesWritten },
      });
      const reported = hb.chunks.map((c) => ({ chunkId: Number(c.chunkId ?? 0), version: Number(c.version ?? 0) }));
      const { orphans, unissued: kept, beyond } = await applyChunkReport(db, serverId, reported, gen, adoptNewer());
      if (beyond.length > 0) {
        log.warn('chunks reported at a version this master never issued: set aside, not adopted', { serverId, count: beyond.length, chunkIds: beyond.slice(0, 20) });
      }
      unissuedCount += kept.length;
      if (unissued.length < 20) unissued.push(...kept.slice(0, 20 - unissued.length));
      if (unissuedCount > 0 && (!hb.fullReport || hb.reportDone)) {
        log.warn('chunkserver holds chunks this metadata never issued (restored from an older backup, or lost and rebuilt?): kept; fstadmin metadata rebuild recovers their files, fsck lists them, fsck --repair deletes them',
          { serverId, count: unissuedCount, chunkIds: unissued });
        unissued = [];
        unissuedCount = 0;
      }
      if (hb.fullReport && hb.reportDone) {
        const swept = await sweepUnreported(db, serverId, gen);
        if (swept > 0) log.info('replicas missing from full report forgotten', { serverId, count: swept });
        registry.fullReportDone(serverId);
      }
      // A corrupt replica is also in `removed`: its row goes there, and a healthy replica is copied
      // again by re-replication.
      if (hb.corrupt.length > 0) corrupt.noteCorrupt(serverId, hb.corrupt.map(Number));
      await applyRemoved(db, serverId, hb.removed);
      if (orphans.length > 0) {
        log.info('chunks of deleted files reported; asking server to delete them', { serverId, count: orphans.length });
        call.write({ deleteChunks: orphans });
      }
    }
  } finally {
    if (serverId !== 0) {
      registry.setConnected(serverId, false);
      log.warn('heartbeat stream closed', { serverId });
    }
  }
}
