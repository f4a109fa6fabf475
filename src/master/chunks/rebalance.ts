/**
 * Rebalancing: moves replicas from the fullest chunkservers to the emptiest until every server's
 * use is within the job's threshold of the mean (rebalance-plan.ts). Started by an operator
 * (fstadmin rebalance); the job is recorded (rebalance-job.ts) and a restarted master resumes it.
 *
 * A move copies the chunk to the target first (CopyChunk, at the chunk's current version), records
 * the copy, and only then deletes the source's replica through trimChunk, which re-reads the rows
 * under the chunk's lock and deletes nothing that would leave the chunk below its goal. Interrupted
 * anywhere (stop, master crash), a move leaves at most one surplus replica, which re-replication
 * trims. Only healthy chunks without a running lease move; chunks below their goal are
 * re-replication's, and the replication manager leaves chunks in a move alone (`moving`).
 *
 * Passes plan a bounded batch of moves against estimated loads, run them at most `concurrency` at
 * once within the job's rate, then rest so that heartbeats bring the servers' real use before the
 * next judgement.
 */
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import { rest } from '../../common/lifecycle/rest.js';
import type { ChunkDeps } from './chunk-deps.js';
import { applyMove, bytesToMove, helps, isBalanced, maxDeviation, movePairs, type ServerLoad } from './rebalance-plan.js';
import { loadRebalanceJob, saveRebalanceJob, type RebalanceJob } from './rebalance-job.js';
import { assess } from './replication-plan.js';
import { loadChunk, recordCopy } from './replication-rows.js';
import type { ReplicationManager } from './replication.js';
import { TokenBucket } from './token-bucket.js';
import { trimChunk } from './trim.js';

export interface RebalanceOptions {
  /** Default rate of a job started without one (the re-replication rate). */
  rateBytesPerSec: number;
  /** Moves running at once. */
  concurrency: number;
  /** Rest between passes (at least two heartbeats, so that use figures are fresh). */
  intervalMs: number;
}

export const DEFAULT_THRESHOLD = 0.1;
/** Chunks read per candidate query. */
const CANDIDATES = 256;
/**
 * A job that finds no move for this long stops as 'stuck'. Longer than a write lease plus its grant
 * deadline (70 s by default), so that chunks just written get their turn first.
 */
const STUCK_AFTER_MS = 3 * 60_000;

interface Move {
  chunkId: number;
  source: number;
  target: number;
  bytes: number;
}

export class Rebalancer {
  private job: RebalanceJob;
  private loop: Promise<void> | undefined;
  private ac: AbortController | undefined;
  private queued = 0;
  private inFlight = 0;
  private closed = false;
  /** Per source server, the last chunk id a candidate query returned (0: from the start). */
  private readonly cursor = new Map<number, number>();
  /** When the last move was made or planned (a job that can make none for long gives up). */
  private lastProgressMs = 0;

  constructor(
    private readonly deps: ChunkDeps,
    private readonly replication: ReplicationManager,
    private readonly opts: RebalanceOptions,
  ) {
    this.job = this.idleJob();
  }

  private idleJob(): RebalanceJob {
    return { state: 'idle', threshold: DEFAULT_THRESHOLD, rateBytes: this.opts.rateBytesPerSec, startedMs: 0, moved: 0, bytesMoved: 0, failed: 0 };
  }

  /** Reads the recorded job and resumes it if it was running. */
  async resume(): Promise<void> {
    this.job = await loadRebalanceJob(this.deps.db, this.idleJob());
    if (this.job.state === 'running') {
      this.deps.log.info('resuming the rebalance job', { threshold: this.job.threshold });
      this.run();
    }
  }

  /** Starts the job, or resumes it with new settings (0 or absent keeps the last ones). */
  async start(threshold?: number | null, rateBytes?: number | null): Promise<fst.IRebalanceProgress> {
    const t = threshold || this.job.threshold;
    if (!(t > 0 && t < 10)) throw new FsError('EINVAL', `threshold must be a fraction above 0 (0.1 = 10%), not ${t}`);
    const fresh = this.job.state !== 'running';
    this.job = {
      ...this.job, state: 'running', threshold: t, rateBytes: Number(rateBytes) || this.job.rateBytes || this.opts.rateBytesPerSec,
      ...(fresh ? { startedMs: Date.now(), moved: 0, bytesMoved: 0, failed: 0 } : {}),
    };
    await saveRebalanceJob(this.deps.db, this.job);
    if (this.loop) await this.halt(); // new settings: restart the loop with them
    this.deps.log.info('rebalance started', { threshold: t, rateBytes: this.job.rateBytes });
    this.run();
    return this.progress();
  }

  /** Stops the job: moves in flight are cancelled (leaving at most surplus replicas, trimmed later). */
  async stop(): Promise<fst.IRebalanceProgress> {
    await this.halt();
    if (this.job.state === 'running') {
      this.job.state = 'idle';
      await saveRebalanceJob(this.deps.db, this.job);
      this.deps.log.info('rebalance stopped', { moved: this.job.moved, bytesMoved: this.job.bytesMoved });
    }
    return this.progress();
  }

  /** Master shutdown: stops the loop, keeping the recorded state (a running job resumes). */
  async close(): Promise<void> {
    this.closed = true;
    await this.halt();
  }

  progress(): fst.IRebalanceProgress {
    const loads = this.loads();
    const balancedNow = this.job.state === 'balanced';
    return {
      state: this.job.state,
      threshold: this.job.threshold,
      rateBytes: this.job.rateBytes,
      moved: this.job.moved,
      bytesMoved: this.job.bytesMoved,
      bytesToMove: balancedNow ? 0 : bytesToMove(loads),
      queued: this.queued,
      inFlight: this.inFlight,
      failed: this.job.failed,
      startedMs: this.job.startedMs,
      maxDeviation: maxDeviation(loads),
    };
  }

  private async halt(): Promise<void> {
    this.ac?.abort();
    await this.loop;
  }

  private run(): void {
    if (this.closed) return;
    // Never two loops: a loop this one replaces would be out of reach of stop() and close().
    this.ac?.abort();
    const ac = new AbortController();
    this.ac = ac;
    const bucket = new TokenBucket(this.job.rateBytes);
    this.lastProgressMs = Date.now();
    this.loop = (async () => {
      while (!ac.signal.aborted && this.job.state === 'running') {
        try {
          await this.pass(bucket, ac.signal);
        } catch (err) {
          if (!ac.signal.aborted) this.deps.log.warn('rebalance pass failed; will retry', { err });
        }
        if (this.job.state === 'running') await rest(this.opts.intervalMs, ac.signal);
      }
    })().finally(() => {
      if (this.ac === ac) this.loop = undefined;
    });
  }

  /** Servers taking part: alive, in service, with a capacity. */
  private loads(): ServerLoad[] {
    return this.deps.servers.placeable().filter((s) => s.capacity > 0).map((s) => ({ id: s.id, capacity: s.capacity, used: s.used }));
  }

  private async pass(bucket: TokenBucket, signal: AbortSignal): Promise<void> {
    // Right after a master start, servers that have not reported yet would look empty.
    if (this.deps.servers.settling()) return;
    const loads = this.loads();
    if (loads.length >= 2 && isBalanced(loads, this.job.threshold)) {
      this.job.state = 'balanced';
      await saveRebalanceJob(this.deps.db, this.job);
      this.deps.log.info('rebalance done: every server is within the threshold of the mean',
        { threshold: this.job.threshold, moved: this.job.moved, bytesMoved: this.job.bytesMoved, maxDeviation: maxDeviation(loads) });
      return;
    }
    const moves = await this.plan(loads, this.opts.concurrency * 4);
    if (moves.length > 0) this.lastProgressMs = Date.now();
    else if (Date.now() - this.lastProgressMs > STUCK_AFTER_MS) {
      // Nothing fits the gaps (chunks larger than what is left to even out), or every candidate
      // stays below its goal: an endless job would make `fstadmin rebalance` wait forever.
      this.job.state = 'stuck';
      await saveRebalanceJob(this.deps.db, this.job);
      this.deps.log.warn('rebalance stopped: no move can bring the servers closer to the mean',
        { threshold: this.job.threshold, maxDeviation: maxDeviation(loads), moved: this.job.moved });
      return;
    }
    this.queued = moves.length;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < moves.length && !signal.aborted) {
        const m = moves[next++]!;
        await bucket.ready(signal);
        if (signal.aborted) break;
        this.queued--;
        await this.moveOne(m, bucket, signal);
      }
    };
    await Promise.all(Array.from({ length: this.opts.concurrency }, worker)).catch((err: unknown) => {
      if (!signal.aborted) throw err;
    });
    this.queued = 0;
    await saveRebalanceJob(this.deps.db, this.job);
  }

  /** Greedy moves against estimated loads: each from the fullest pair that a candidate chunk helps. */
  private async plan(loads: ServerLoad[], limit: number): Promise<Move[]> {
    const byId = new Map(loads.map((l) => [l.id, l]));
    const moves: Move[] = [];
    const planned = new Set<number>();
    const now = Date.now();
    while (moves.length < limit) {
      let found: Move | undefined;
      for (const { source, target } of movePairs([...byId.values()], this.job.threshold)) {
        const s = byId.get(source)!;
        const t = byId.get(target)!;
        // A cursor per source (through the replicas_by_server index, in chunk id order): chunks
        // a move refused (below goal, just written) do not block the ones after them.
        const after = this.cursor.get(source) ?? 0;
        const rows = await this.deps.db.reader.all<{ chunk_id: number; idx: number; size: number }>(
          `SELECT r.chunk_id, c.idx, i.size FROM replicas r
             JOIN chunks c ON c.chunk_id = r.chunk_id AND c.version = r.version
             JOIN inodes i ON i.ino = c.ino
             LEFT JOIN leases l ON l.chunk_id = r.chunk_id
           WHERE r.server_id = ? AND r.chunk_id > ? AND (l.expires_ms IS NULL OR l.expires_ms < ?)
             AND NOT EXISTS (SELECT 1 FROM replicas r2 WHERE r2.chunk_id = r.chunk_id AND r2.server_id = ?)
           ORDER BY r.chunk_id LIMIT ${CANDIDATES}`,
          [source, after, now, target],
        );
        this.cursor.set(source, rows.length < CANDIDATES ? 0 : rows.at(-1)!.chunk_id);
        // The largest chunk that still helps: fewer, bigger moves.
        const fits = rows
          .map((r) => ({ chunkId: r.chunk_id, bytes: Math.max(0, Math.min(CHUNK_SIZE, r.size - r.idx * CHUNK_SIZE)) }))
          .filter((c) => !planned.has(c.chunkId) && !this.replication.moving.has(c.chunkId) && helps(s, t, c.bytes))
          .sort((a, b) => b.bytes - a.bytes);
        const pick = fits[0];
        if (pick) {
          found = { chunkId: pick.chunkId, source, target, bytes: pick.bytes };
          applyMove(s, t, pick.bytes);
          break;
        }
      }
      if (!found) break;
      planned.add(found.chunkId);
      moves.push(found);
    }
    return moves;
  }

  /** One move: copy to the target, record it, then delete the source's replica. Never throws. */
  private async moveOne(m: Move, bucket: TokenBucket, signal: AbortSignal): Promise<void> {
    const { deps } = this;
    if (this.replication.moving.has(m.chunkId)) return;
    this.replication.moving.add(m.chunkId);
    this.inFlight++;
    const fields = { chunkId: m.chunkId, source: m.source, target: m.target };
    try {
      const now = Date.now();
      const chunk = await loadChunk(deps.db.reader, m.chunkId, now);
      if (!chunk) return;
      const a = assess(chunk, this.replication.stateOf(now));
      // Healthy, not being written, still on the source, not yet on the target.
      if (a.leased || a.inService.length < a.goal || !a.inService.includes(m.source) || a.holders.has(m.target)) return;
      const source = deps.servers.get(m.source);
      const target = deps.servers.get(m.target);
      if (!source || !target || target.draining || !deps.servers.isAlive(m.target)) return;
      const bytes = await deps.commands.copyChunk(target.address, { chunkId: m.chunkId, version: a.version, source: source.address }, signal);
      bucket.charge(bytes);
      if (!(await recordCopy(deps.db, m.chunkId, m.target, a.version))) {
        deps.log.debug('chunk moved on during its rebalance copy; the copy is stale', fields);
        return;
      }
      const deleted = await trimChunk(this.replication.trimContext, m.chunkId, m.source);
      if (deleted.length > 0) {
        this.job.moved++;
        this.job.bytesMoved += bytes;
        deps.log.debug('chunk moved', { ...fields, bytes });
      }
    } catch (err) {
      if (signal.aborted) return;
      this.job.failed++;
      deps.log.warn('rebalance move failed; will retry', { ...fields, err: (err as Error).message });
    } finally {
      this.inFlight--;
      this.replication.moving.delete(m.chunkId);
    }
  }
}
