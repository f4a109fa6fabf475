/**
 * How many calls are running now under each key: a key is present exactly while at least one call
 * counted under it has not settled (a directory being changed, an inode being opened).
 */
export class RunningCounts<K> {
  private readonly counts = new Map<K, number>();

  /** Runs `call`, counted under each of `keys` (a key given twice counts twice) until it settles. */
  async around<T>(keys: readonly K[], call: () => Promise<T>): Promise<T> {
    for (const k of keys) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    try {
      return await call();
    } finally {
      for (const k of keys) {
        const n = (this.counts.get(k) ?? 1) - 1;
        if (n <= 0) this.counts.delete(k);
        else this.counts.set(k, n);
      }
    }
  }

  has(key: K): boolean {
    return this.counts.has(key);
  }

  /** The keys with calls running now. */
  keys(): IterableIterator<K> {
    return this.counts.keys();
  }

  get size(): number {
    return this.counts.size;
  }
}
