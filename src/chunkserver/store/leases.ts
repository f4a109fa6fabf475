/**
 * Primary leases (GFS): the master makes one replica of a chunk its primary for a while
 * (SetChunkVersion lease_ms), and only the primary accepts writes from clients, so one server
 * orders every mutation of the chunk. A lease names the chunk version it was granted at: once the
 * version moves, the chunk is deleted or quarantined, the lease is gone.
 *
 * Leases live in memory only: a restarted chunkserver holds none and refuses client writes until
 * the master grants it a lease again. Expiry uses the monotonic clock (performance.now()), so a
 * wall-clock step never stretches or cuts a lease; the master waits out its own copy of the
 * duration before granting the chunk to another server.
 */
import { FsError } from '../../common/errors/errno.js';

interface Lease {
  version: number;
  /** performance.now() at which it ends. */
  until: number;
}

/** Grants between two sweeps of expired leases, which bound the map by the chunks leased lately. */
const SWEEP_EVERY = 1024;

export class Leases {
  private readonly held = new Map<number, Lease>();
  private grants = 0;

  /** The monotonic clock leases are measured with (injectable for tests). */
  constructor(readonly now: () => number = () => performance.now()) {}

  /**
   * Holds the lease on `chunkId` at `version` for `ms` from `since` (default now), replacing any
   * other. Callers pass the time the grant arrived, not the time it was applied: the master counts
   * from before it asked, so counting from the arrival keeps this lease from outliving the master's.
   */
  grant(chunkId: number, version: number, ms: number, since = this.now()): void {
    if (++this.grants % SWEEP_EVERY === 0) this.sweep();
    this.held.set(chunkId, { version, until: since + ms });
  }

  /** Ends the lease held on `chunkId`, whatever its version. */
  end(chunkId: number): void {
    this.held.delete(chunkId);
  }

  /** Ends the lease on `chunkId` unless it is held at `version`. */
  endUnlessAt(chunkId: number, version: number): void {
    const l = this.held.get(chunkId);
    if (l && l.version !== version) this.held.delete(chunkId);
  }

  /** Throws ESTALE unless this server holds an unexpired lease on `chunkId` at `version`. */
  check(chunkId: number, version: number): void {
    const l = this.held.get(chunkId);
    if (!l) throw new FsError('ESTALE', `chunk ${chunkId}: no lease at version ${version} here (not its primary)`);
    if (l.version !== version) {
      throw new FsError('ESTALE', `chunk ${chunkId}: no lease at version ${version} here (lease held at version ${l.version})`);
    }
    // An expired lease stays until swept or replaced, so that the error can say it expired.
    const late = this.now() - l.until;
    if (late >= 0) {
      throw new FsError('ESTALE', `chunk ${chunkId}: lease at version ${version} expired ${Math.round(late)} ms ago`);
    }
  }

  /** Leases held, expired ones included until swept (for tests and diagnostics). */
  get size(): number {
    return this.held.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, l] of this.held) if (l.until <= now) this.held.delete(id);
  }
}
