/**
 * One async mutex per chunk: writes, truncates, version changes, copies and deletes of a chunk run
 * one at a time, in arrival order, while different chunks proceed in parallel. A lock exists only
 * while someone holds or waits for it, so idle chunks cost nothing.
 */
import { LimitError } from '../../common/errors/rpc-status.js';

export class ChunkLocks {
  private readonly tails = new Map<number, Promise<void>>();
  /** Holders and waiters per chunk, when bounded. */
  private readonly queued = new Map<number, number>();

  /** `maxQueued`: most holders and waiters of one chunk; more fail at once (LimitError). */
  constructor(private readonly maxQueued = Infinity) {}

  /** Runs `fn` once every earlier holder of `chunkId`'s lock is done. */
  async run<T>(chunkId: number, fn: () => Promise<T>): Promise<T> {
    const n = this.queued.get(chunkId) ?? 0;
    if (n >= this.maxQueued) throw new LimitError(`chunk ${chunkId}: ${n} writers queued already`);
    this.queued.set(chunkId, n + 1);
    try {
      return await this.inTurn(chunkId, fn);
    } finally {
      const left = (this.queued.get(chunkId) ?? 1) - 1;
      if (left > 0) this.queued.set(chunkId, left);
      else this.queued.delete(chunkId);
    }
  }

  private async inTurn<T>(chunkId: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(chunkId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(chunkId, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(chunkId) === tail) this.tails.delete(chunkId);
    }
  }

  /** Chunks whose lock is held or awaited (for tests and diagnostics). */
  get size(): number {
    return this.tails.size;
  }
}
