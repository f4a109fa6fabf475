/**
 * One async mutex per chunk: writes, truncates, version changes, copies and deletes of a chunk run
 * one at a time, in arrival order, while different chunks proceed in parallel. A lock exists only
 * while someone holds or waits for it, so idle chunks cost nothing.
 */
export class ChunkLocks {
  private readonly tails = new Map<number, Promise<void>>();

  /** Runs `fn` once every earlier holder of `chunkId`'s lock is done. */
  async run<T>(chunkId: number, fn: () => Promise<T>): Promise<T> {
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
