/**
 * Re-replication: brings chunks back to their goal by having another chunkserver pull a copy from a
 * healthy replica (CopyChunk), and deletes stale replicas once a current one is live.
 *
 * A pass every `intervalMs` (after the previous one ends, so passes never overlap) scans the chunks
 * of live files in bounded batches (replication-rows.ts), decides from the rows what to do
 * (replication-plan.ts), deletes stale replicas, then copies the most urgent chunks first (fewest
 * usable replicas), at most `concurrency` at once and within `rateBytesPerSec`. Each chunk is read
 * again just before its turn, since the scan may be minutes old. A pass starts no new copy after
 * WORK_WINDOW_MS, so that the next scan can put newly endangered chunks first. Failed copies are
 * retried in a later pass, after a backoff per chunk and per target.
 *
 * Chunks under an unexpired lease are left alone: a copy would miss the writes in flight (and the
 * write path adds replicas itself on failover). Copies need no lock against writers: a chunk without
 * a running lease can only be written after AllocateChunk moves it to a new version, so a copy that
 * overlaps a new write session ends up at the old version, which is stale (recordCopy refuses it,
 * and the target's report records it as stale; the next pass deletes it).
 */
import type { fst } from '../../proto-gen/fst.js';
import { toErrno } from '../../common/errors/to-errno.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import type { ChunkDeps } from './chunk-deps.js';
import { chooseServers } from './placement.js';
import { assess, PassPlan, serverState, type ChunkAssessment, type CopyWork, type ServerState, type StaleDeletion } from './replication-plan.js';
import { forgetReplica, loadChunk, recordCopy, scanChunks } from './replication-rows.js';
import { RetryBackoff } from './retry-backoff.js';
import { TokenBucket } from './token-bucket.js';
import { trimChunk, type TrimContext } from './trim.js';

export interface ReplicationOptions {
  /** A dead server's replicas are copied elsewhere once it has been dead this long. */
  replaceAfterMs: number;
  /** Most bytes per second that re-replication copies. */
  rateBytesPerSec: number;
  /** Copies running at once. */
  concurrency: number;
  /** Pause between passes over the chunks below goal. */
  intervalMs: number;
}

/** Chunks read per scan query. */
const BATCH = 1_000;
/** Most copies (and stale deletions) one pass keeps in memory. */
const MAX_WORK = 1_000;
/** Stale replicas deleted at once. */
const DELETE_PARALLEL = 4;
/** A pass starts no new copy after this long: the next scan re-ranks the chunks below goal. */
const WORK_WINDOW_MS = 60_000;
/** Backoff after a failed copy, doubling per failure, per chunk and per target. */
const BACKOFF_MAX_MS = 5 * 60_000;
/**
 * Pause after a pass that found nothing to do while every known server is alive: scanning every
 * chunk every few seconds would keep the reader connection busy for nothing on a healthy cluster.
 * Anything that can create work (a server coming or going, a corrupt report, a write left below
 * its goal) calls poke() and brings the next pass forward.
 */
const QUIET_SWEEP_MS = 60_000;

export class ReplicationManager {
  private readonly startedMs = Date.now();
  private readonly ac = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly bucket: TokenBucket;
  private readonly chunkBackoff: RetryBackoff<number>;
  private readonly targetBackoff: RetryBackoff<number>;
  /** Copies in flight per target server (spreads concurrent copies over targets). */
  private readonly copyingTo = new Map<number, number>();
  private readonly stats = { queued: 0, inFlight: 0, copied: 0, bytesCopied: 0, failed: 0, staleDeleted: 0, lastPassMs: 0, trimmed: 0 };
  private corrupt = 0;
  /** Chunks a rebalance move is working on: this manager neither copies nor trims them meanwhile. */
  readonly moving = new Set<number>();
  /** What trimming needs (shared with the rebalancer). */
  readonly trimContext: TrimContext;

  constructor(
    private readonly deps: ChunkDeps,
    private readonly opts: ReplicationOptions,
    withChunkLock: TrimContext['withChunkLock'],
  ) {
    this.trimContext = { deps, withChunkLock, stateOf: (now) => this.stateOf(now) };
    this.bucket = new TokenBucket(opts.rateBytesPerSec);
    const base = Math.max(1_000, opts.intervalMs);
    this.chunkBackoff = new RetryBackoff(base, BACKOFF_MAX_MS);
    this.targetBackoff = new RetryBackoff(base, BACKOFF_MAX_MS, 1_000);
  }

  /** A chunkserver reported corrupt replicas (already dropped on its side, and in `removed`). */
  noteCorrupt(serverId: number, chunkIds: number[]): void {
    if (chunkIds.length === 0) return;
    this.corrupt += chunkIds.length;
    this.poke();
    this.deps.log.warn('chunkserver reported corrupt replicas; they will be copied again from healthy ones',
      { serverId, count: chunkIds.length, chunkIds: chunkIds.slice(0, 20) });
  }

  /** Replicas reported corrupt since the master started. */
  corruptReported(): number {
    return this.corrupt;
  }

  progress(): fst.IReplicationProgress {
    return { ...this.stats };
  }

  start(): void {
    if (this.ac.signal.aborted || this.timer) return;
    this.deps.servers.onTransition(() => this.poke());
    this.schedule(this.opts.intervalMs);
  }

  /** Something may have left chunks below their goal or stale: pass soon. */
  poke(): void {
    this.poked = true;
    if (this.running || this.ac.signal.aborted) return; // the pass's end schedules the next soon
    if (this.timer) clearTimeout(this.timer);
    this.schedule(this.opts.intervalMs);
  }

  private poked = false;
  private idle = false;

  /** Stops scheduling, aborts copies in flight and waits for the current pass to wind down. */
  async stop(): Promise<void> {
    this.ac.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.ac.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.poked = false;
      this.running = this.pass()
        .catch((err: unknown) => {
          if (!this.ac.signal.aborted) this.deps.log.warn('re-replication pass failed', { err });
        })
        .finally(() => {
          this.running = undefined;
          const quiet = this.idle && !this.poked && this.deps.servers.all().every((srv) => this.deps.servers.isAlive(srv.id));
          this.schedule(quiet ? Math.max(QUIET_SWEEP_MS, this.opts.intervalMs) : this.opts.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    const signal = this.ac.signal;
    const started = Date.now();
    const before = { ...this.stats };
    const plan = await this.scan(signal);
    if (signal.aborted) return;
    this.stats.queued = plan.fixable;
    this.stats.lastPassMs = Date.now();
    this.idle = plan.fixable === 0 && plan.deletions.length === 0 && !plan.blocked;
    this.idle &&= plan.trims.length === 0;
    await this.deleteStale(plan.deletions, signal);
    await this.copyAll(plan.work(), started + WORK_WINDOW_MS, signal);
    await this.trimAll(plan.trims, signal);
    const copied = this.stats.copied - before.copied;
    const failed = this.stats.failed - before.failed;
    const staleDeleted = this.stats.staleDeleted - before.staleDeleted;
    const trimmed = this.stats.trimmed - before.trimmed;
    if (copied + failed + staleDeleted + trimmed > 0) {
      this.deps.log.info('re-replication pass', { queued: plan.fixable, copied, failed, staleDeleted, trimmed, ms: Date.now() - started });
    }
  }

  /** How each known server counts at `now` (unknown ids are gone). */
  stateOf(now: number): (serverId: number) => ServerState {
    const { servers } = this.deps;
    return (id) => {
      const s = servers.get(id);
      if (!s) return 'gone';
      // Alive, but its full report on this stream is not applied yet: its rows may claim copies it
      // lost meanwhile, so it is neither a source nor counted as in service (nothing is trimmed on
      // its word) until the report ends; it still counts as usable, as a silent server does.
      if (servers.isAlive(id) && !servers.reportComplete(id)) return 'waiting';
      if (s.draining && servers.isAlive(id)) return 'draining';
      return serverState({ alive: servers.isAlive(id), lastHeartbeatMs: s.lastHeartbeatMs, startedMs: this.startedMs, now, replaceAfterMs: this.opts.replaceAfterMs });
    };
  }

  /** Alive servers that may take a copy: room for a chunk, and no recent failures. */
  private candidates(now: number): { id: number; capacity: number; free: number; load: number }[] {
    return this.deps.servers.placeable()
      .filter((s) => s.free >= CHUNK_SIZE && !this.targetBackoff.blocked(s.id, now))
      .map((s) => ({ id: s.id, capacity: s.capacity, free: s.free, load: s.load + (this.copyingTo.get(s.id) ?? 0) }));
  }

  private async scan(signal: AbortSignal): Promise<PassPlan> {
    const plan = new PassPlan(MAX_WORK);
    const now = Date.now();
    const stateOf = this.stateOf(now);
    const targets = this.candidates(now).map((s) => s.id);
    for (let after: number | undefined = 0; after !== undefined && !signal.aborted; ) {
      const batch = await scanChunks(this.deps.db.reader, after, BATCH, now);
      for (const c of batch.chunks) plan.add(assess(c, stateOf), targets, this.chunkBackoff.blocked(c.chunkId, now));
      after = batch.next;
    }
    return plan;
  }

  /** The chunk as it stands now (undefined: its file is gone). */
  private async reassess(chunkId: number): Promise<ChunkAssessment | undefined> {
    const now = Date.now();
    const chunk = await loadChunk(this.deps.db.reader, chunkId, now);
    return chunk && assess(chunk, this.stateOf(now));
  }

  private async deleteStale(deletions: StaleDeletion[], signal: AbortSignal): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < deletions.length && !signal.aborted) await this.deleteOne(deletions[next++]!);
    };
    await Promise.all(Array.from({ length: DELETE_PARALLEL }, worker));
  }

  private async deleteOne(d: StaleDeletion): Promise<void> {
    const log = { chunkId: d.chunkId, serverId: d.serverId, version: d.version };
    try {
      const a = await this.reassess(d.chunkId);
      // Deleted only while a current replica is live elsewhere, no write is under way, and the row
      // is still the same stale one.
      if (!a || a.leased || a.sources.length === 0) return;
      if (!a.staleOnAlive.some((r) => r.serverId === d.serverId && r.version === d.version)) return;
      const address = this.deps.servers.get(d.serverId)?.address;
      if (!address) return;
      // Version-guarded: a server that meanwhile holds another version refuses (ESTALE).
      await this.deps.commands.deleteChunk(address, d.chunkId, d.version);
      await forgetReplica(this.deps.db, d.chunkId, d.serverId, d.version);
      this.stats.staleDeleted++;
      this.deps.log.info('stale replica deleted', { ...log, current: a.version });
    } catch (err) {
      // ESTALE: the server holds another version now; its report will say which.
      const level = toErrno(err) === 'ESTALE' ? 'debug' : 'warn';
      this.deps.log[level]('stale replica not deleted; will retry', { ...log, err: (err as Error).message });
    }
  }

  /** Deletes surplus replicas (goal lowered, drained servers, interrupted moves). */
  private async trimAll(chunkIds: number[], signal: AbortSignal): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunkIds.length && !signal.aborted) {
        const chunkId = chunkIds[next++]!;
        if (this.moving.has(chunkId)) continue;
        try {
          this.stats.trimmed += (await trimChunk(this.trimContext, chunkId)).length;
        } catch (err) {
          this.deps.log.warn('surplus replica not deleted; will retry', { chunkId, err: (err as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: DELETE_PARALLEL }, worker));
  }

  private async copyAll(work: CopyWork[], stopStartingAt: number, signal: AbortSignal): Promise<void> {
    const running = new Set<Promise<void>>();
    try {
      for (const w of work) {
        while (running.size >= this.opts.concurrency) await Promise.race(running);
        await this.bucket.ready(signal);
        if (Date.now() > stopStartingAt) break;
        const p: Promise<void> = this.copyOne(w.chunkId, signal).finally(() => running.delete(p));
        running.add(p);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      await Promise.all(running);
    }
  }

  /** One copy of a chunk below goal; never throws. */
  private async copyOne(chunkId: number, signal: AbortSignal): Promise<void> {
    let a: ChunkAssessment | undefined;
    try {
      a = await this.reassess(chunkId);
    } catch (err) {
      this.deps.log.warn('re-replication could not read a chunk', { chunkId, err });
      return;
    }
    if (this.moving.has(chunkId)) return;
    if (!a || a.usable >= a.goal) {
      // Fixed meanwhile (the write path, a returning server) or gone with its file.
      if (this.stats.queued > 0) this.stats.queued--;
      return;
    }
    if (a.leased || a.sources.length === 0) return;
    const now = Date.now();
    const target = chooseServers(this.candidates(now), 1, a.holders).chosen[0];
    if (target === undefined) return;
    // Sources by load; a chunk whose copies failed tries the next source each time.
    const sources = a.sources.map((id) => this.deps.servers.get(id)!).sort((x, y) => x.load - y.load || x.id - y.id);
    const source = sources[this.chunkBackoff.failures(chunkId) % sources.length]!;
    const targetAddress = this.deps.servers.get(target)!.address;
    const fields = { chunkId, version: a.version, usable: a.usable, goal: a.goal, source: source.id, target };
    this.stats.inFlight++;
    this.copyingTo.set(target, (this.copyingTo.get(target) ?? 0) + 1);
    try {
      const bytes = await this.deps.commands.copyChunk(targetAddress, { chunkId, version: a.version, source: source.address }, signal);
      this.bucket.charge(bytes);
      this.stats.bytesCopied += bytes;
      this.chunkBackoff.succeed(chunkId);
      this.targetBackoff.succeed(target);
      if (await recordCopy(this.deps.db, chunkId, target, a.version)) {
        this.stats.copied++;
        if (this.stats.queued > 0) this.stats.queued--;
        this.deps.log.debug('chunk copied', { ...fields, bytes });
      } else {
        this.deps.log.debug('chunk moved on during its copy; the copy is stale', fields);
      }
    } catch (err) {
      if (signal.aborted) return;
      this.stats.failed++;
      const code = toErrno(err);
      this.chunkBackoff.fail(chunkId, Date.now());
      // ESTALE/ENOENT: the source no longer has that version, which says nothing about the target.
      if (code !== 'ESTALE' && code !== 'ENOENT') this.targetBackoff.fail(target, Date.now());
      this.deps.log.warn('chunk copy failed; will retry later', { ...fields, code, err: (err as Error).message });
    } finally {
      this.stats.inFlight--;
      const n = (this.copyingTo.get(target) ?? 1) - 1;
      if (n > 0) this.copyingTo.set(target, n);
      else this.copyingTo.delete(target);
    }
  }
}
