/**
 * What re-replication should do, decided from rows alone (pure, unit-tested): which replicas of a
 * chunk still count, which chunks need a copy and in what order, and which stale replicas may go.
 *
 * A replica counts ("usable") when it is at the chunk's current version on a server that is alive,
 * or that has been silent for less than `replaceAfterMs`: a chunkserver that restarts, or a short
 * network cut, must not set off a storm of 64 MiB copies. A master that has just started knows
 * nobody's liveness yet, so silence is counted from its start at the earliest.
 */

export interface ReplicaRow {
  serverId: number;
  version: number;
}

/** One chunk of a live file with its replica rows, as the scan reads it (replication-rows.ts). */
export interface ChunkState {
  chunkId: number;
  /** Its file and its index in it (the key of the chunk's allocation lock). */
  ino: number;
  idx: number;
  version: number;
  /** Replication goal of its file; 0 when the inode row is gone (a damaged database). */
  goal: number;
  /** Its file's size in bytes. */
  fileSize: number;
  /** An unexpired lease: the chunk is being written. */
  leased: boolean;
  replicas: ReplicaRow[];
}

/**
 * alive; alive but being decommissioned (its copies are sources, never counted towards a goal);
 * silent but given time to come back; or gone for re-replication's purposes.
 */
export type ServerState = 'alive' | 'draining' | 'waiting' | 'gone';

export interface SilenceInputs {
  alive: boolean;
  /** Last heartbeat (this run, or persisted by an earlier one; 0: never). */
  lastHeartbeatMs: number;
  /** When this master started. */
  startedMs: number;
  now: number;
  replaceAfterMs: number;
}

export function serverState(s: SilenceInputs): ServerState {
  if (s.alive) return 'alive';
  const silentSince = Math.max(s.lastHeartbeatMs, s.startedMs);
  return s.now - silentSince < s.replaceAfterMs ? 'waiting' : 'gone';
}

export interface ChunkAssessment {
  chunkId: number;
  version: number;
  goal: number;
  leased: boolean;
  /** Replicas at the current version on alive or waiting servers. */
  usable: number;
  /** Alive servers (draining ones included) holding the current version: where a copy can come from. */
  sources: number[];
  /** Alive servers in service holding the current version (a subset of sources). */
  inService: number[];
  /** Alive draining servers holding the current version (the rest of sources). */
  draining: number[];
  /** Every server with a current-version row (never a copy target, whatever its state). */
  holders: Set<number>;
  /** Older-version replicas on alive servers. */
  staleOnAlive: ReplicaRow[];
}

export function assess(c: ChunkState, stateOf: (serverId: number) => ServerState): ChunkAssessment {
  const a: ChunkAssessment = {
    chunkId: c.chunkId, version: c.version, goal: c.goal, leased: c.leased, usable: 0, sources: [], inService: [], draining: [], holders: new Set(), staleOnAlive: [],
  };
  for (const r of c.replicas) {
    const state = stateOf(r.serverId);
    if (r.version === c.version) {
      a.holders.add(r.serverId);
      if (state === 'alive' || state === 'waiting') a.usable++;
      if (state === 'alive') a.inService.push(r.serverId);
      if (state === 'draining') a.draining.push(r.serverId);
      if (state === 'alive' || state === 'draining') a.sources.push(r.serverId);
    } else if (r.version < c.version && (state === 'alive' || state === 'draining')) {
      a.staleOnAlive.push(r);
    }
  }
  return a;
}

/**
 * How many current replicas may be deleted: those on draining servers, and those in service beyond
 * the goal, but only once the goal is met by live servers in service. Replicas on silent servers
 * never count here, so a chunk is never trimmed down to copies that may not come back.
 */
export function surplus(a: ChunkAssessment): number {
  if (a.inService.length < a.goal) return 0;
  return a.draining.length + a.inService.length - a.goal;
}

/** Whether one of `targets` (alive servers with room) may take a copy. */
export function hasTarget(a: ChunkAssessment, targets: readonly number[]): boolean {
  return targets.some((id) => !a.holders.has(id));
}

/** A chunk below its goal, and where it stands in the line. */
export interface CopyWork {
  chunkId: number;
  usable: number;
}

/** Fewest usable replicas first (one left before two), then the oldest chunk. */
export function compareWork(a: CopyWork, b: CopyWork): number {
  return a.usable - b.usable || a.chunkId - b.chunkId;
}

export interface StaleDeletion {
  chunkId: number;
  serverId: number;
  version: number;
}

/**
 * Collects one pass's work over chunks assessed batch by batch, keeping only the `limit` most
 * urgent copies and the first `limit` deletions: a cluster that lost a server holding millions of
 * chunks costs the master a bounded list, and the next pass picks up the rest.
 */
export class PassPlan {
  /** Chunks below goal that a copy can fix now (all of them, not only those kept). */
  fixable = 0;
  /** Chunks with work to do that wait for their lease to end (a later pass takes them). */
  blocked = 0;
  private copies: CopyWork[] = [];
  readonly deletions: StaleDeletion[] = [];
  /** Chunks with surplus replicas (goal lowered, drained server, interrupted move), first `limit`. */
  readonly trims: number[] = [];

  constructor(private readonly limit: number) {}

  /**
   * Adds one chunk. `targets`: alive servers with room for a chunk; `deferred`: a chunk whose last
   * copy failed recently (counted as fixable, copied in a later pass).
   */
  add(a: ChunkAssessment, targets: readonly number[], deferred = false): void {
    // A chunk being written is left alone: a copy would miss the writes in flight.
    if (a.leased) {
      if (a.usable < a.goal || a.staleOnAlive.length > 0 || surplus(a) > 0) this.blocked++;
      return;
    }
    // Never delete the last copy of anything: a stale replica goes only once a current one is live.
    if (a.sources.length > 0 && this.deletions.length < this.limit) {
      for (const s of a.staleOnAlive) {
        if (this.deletions.length < this.limit) this.deletions.push({ chunkId: a.chunkId, serverId: s.serverId, version: s.version });
      }
    }
    if (surplus(a) > 0 && this.trims.length < this.limit) this.trims.push(a.chunkId);
    if (a.usable >= a.goal || a.sources.length === 0 || !hasTarget(a, targets)) return;
    this.fixable++;
    if (deferred) return;
    this.copies.push({ chunkId: a.chunkId, usable: a.usable });
    if (this.copies.length >= 2 * this.limit) this.trim();
  }

  /** The copies to make, most urgent first. */
  work(): CopyWork[] {
    this.trim();
    return this.copies;
  }

  private trim(): void {
    this.copies.sort(compareWork);
    if (this.copies.length > this.limit) this.copies.length = this.limit;
  }
}
