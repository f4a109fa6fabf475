/**
 * ChunkserverService handlers: argument checks, then one call into the store or replication code.
 * Every handler counts itself in flight while it runs (the `load` the heartbeat reports).
 */
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { RpcClientPool } from '../../common/rpc/client.js';
import type { ServiceHandlers } from '../../common/rpc/server.js';
import type { ChunkserverMethods } from '../../common/rpc/services.js';
import { BLOCK_SIZE } from '../store/checksum.js';
import { ChunkLocks } from '../store/chunk-locks.js';
import type { ChunkStore } from '../store/chunk-store.js';
import type { IoTotals } from '../io-totals.js';
import { copyChunk } from '../replication/copy.js';
import { listChunks } from './list-chunks.js';
import { readChunk, readRange } from './read-chunk.js';
import { addressOf, chunkIdOf, leaseMsOf, ownerOf, rangeOf, versionOf } from './validate.js';
import { writeChunk } from './write-chunk.js';
import { writeRange } from './write-range.js';
import type { ChunkAccess } from './chunk-access.js';

export interface HandlerDeps {
  store: ChunkStore;
  log: Logger;
  pool: RpcClientPool;
  self: () => string;
  /** Where data RPCs count their calls and bytes (heartbeat and metrics read them). */
  io: IoTotals;
  /** Checks chunk access tokens; absent on a chunkserver without a credential (insecure). */
  access?: ChunkAccess;
  /** A WriteChunk stream silent this long fails. */
  writeIdleMs?: number;
}

/** Client streams queued for one chunk at its primary; more are refused (RESOURCE_EXHAUSTED). */
const MAX_WRITERS_QUEUED = 256;

/** Requests being served right now. */
export class InFlight {
  count = 0;

  track<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args) => {
      this.count++;
      try {
        return await fn(...args);
      } finally {
        this.count--;
      }
    };
  }
}

export function createHandlers(deps: HandlerDeps, inFlight: InFlight): ServiceHandlers<typeof ChunkserverMethods> {
  const { store, pool } = deps;
  const writeDeps = { ...deps, primaryOrder: new ChunkLocks(MAX_WRITERS_QUEUED), idleMs: deps.writeIdleMs };
  return {
    WriteChunk: inFlight.track((call, ctx) => writeChunk(call, ctx, writeDeps)),

    WriteRange: inFlight.track((req, ctx) => writeRange(req, ctx, writeDeps)),

    ReadChunk: inFlight.track((req, call, ctx) => readChunk(req, call, ctx, store, deps.log, deps.io, deps.access)),

    ReadRange: inFlight.track((req, ctx) => readRange(req, ctx, store, deps.io, deps.access)),

    ListChunks: inFlight.track((req, call, ctx) => listChunks(req, call, ctx, store, deps.log)),

    CopyChunk: inFlight.track(async (req, ctx) => {
      const chunkId = chunkIdOf(req.chunkId);
      const version = versionOf(req.version);
      const source = addressOf(req.source, 'source');
      if (source === deps.self()) throw new FsError('EINVAL', `chunk ${chunkId}: cannot copy from myself (${source})`);
      return { length: await copyChunk(store, pool, { chunkId, version, source }, ctx.signal, deps.io) };
    }),

    DeleteChunk: inFlight.track(async (req) => {
      await store.delete(chunkIdOf(req.chunkId), versionOf(req.version));
      return {};
    }),

    GetChunkChecksums: inFlight.track(async (req) => {
      const chunkId = chunkIdOf(req.chunkId);
      const { version, length, crcs } = await store.checksums(chunkId);
      // The owner is written once at creation and never changed: read apart from the checksums.
      const owner = await store.owner(chunkId).catch(() => undefined);
      return { version, length, blockSize: BLOCK_SIZE, crc32c: Array.from(crcs), owner };
    }),

    SetChunkVersion: inFlight.track(async (req, ctx) => {
      const chunkId = chunkIdOf(req.chunkId);
      // The master counts a lease from the grant's deadline (leases.ts): one granted after it would
      // outlive the master's record.
      if (req.leaseMs && ctx.signal.aborted) throw new FsError('ETIMEDOUT', `chunk ${chunkId}: lease grant arrived after its deadline`);
      const newVersion = versionOf(req.newVersion, 'new_version');
      const truncateTo = req.truncate ? rangeOf(0, req.truncateLength, 'truncate_length').length : undefined;
      const change = { truncateTo, leaseMs: leaseMsOf(req.leaseMs) };
      if (req.create) return { length: await store.create(chunkId, newVersion, change, ownerOf(req.owner)) };
      const version = versionOf(req.version);
      return { length: await store.setVersion(chunkId, version, newVersion, change) };
    }),
  };
}
